"""The Cilium half of the lab: identities, endpoints, policy, datapath, proxies (agent + operator)."""
