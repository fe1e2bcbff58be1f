"""ROS 2 tooling shared by the nodes, the launcher, the harness and the CLI."""
