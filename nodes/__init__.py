"""sbamti's rclpy nodes: thin wrappers that declare parameters, wire topics and call the library."""
