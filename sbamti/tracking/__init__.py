"""Ground tracking of the detections' ECEF positions (pure: numpy/scipy/numba, never rclpy).

Filtering cores, batched over many tracks at once (arrays with a leading track axis ``n``):

- :mod:`sbamti.tracking.motion`: motion models on the ECEF state: nearly-constant velocity
  (6-state position/velocity) and coordinated turn about the local vertical (7-state with the
  turn rate); transition, Jacobian and process noise.
- :mod:`sbamti.tracking.kalman`: the Kalman / extended Kalman predict and update steps (Joseph
  form, Cholesky solves), and the measurement models (ECEF position, optionally range rate).
- :mod:`sbamti.tracking.imm`: the interacting multiple model filter (constant velocity and
  coordinated turn).
- :mod:`sbamti.tracking.gating`: chi-square gating with a k-d tree pre-gate that provably keeps
  every in-gate pair, so the cost grows about linearly with tracks and detections.
- :mod:`sbamti.tracking.association`: global nearest neighbour per dwell (log-likelihood ratios,
  connected components, ``linear_sum_assignment``).
- :mod:`sbamti.tracking.management`: the track store and the initiator, M-of-N confirmer and
  deleter roles.
- :mod:`sbamti.tracking.tracker`: the tracker composed of those roles, one dwell per step.
- :mod:`sbamti.tracking.errors`: :class:`~sbamti.tracking.errors.TrackingError`.

Test and benchmark inputs: :mod:`sbamti.tracking.synthetic` (with ``synthetic_targets`` and
``synthetic_sensors``) generates multi-satellite detections of scripted and random targets, with
the onboard geolocation's anisotropic covariances, Pd, false alarms, and store-and-forward
arrival delays.
"""
