"""Server behaviours of container images (what answers when traffic reaches a pod)."""
