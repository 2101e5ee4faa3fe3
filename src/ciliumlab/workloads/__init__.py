"""What runs inside pods: image behaviours (servers) and the exec shell with its tools (clients)."""
