"""Static data the bootstrap writes into the cluster (config files kubeadm and the Cilium chart render)."""
