"""The Kubernetes half of the lab: objects, store, controllers."""
