"""The served lab: `ciliumlab up` runs one process serving the Lab to the real kubectl and hubble.

Modules: `state` (state dir layout, pidfile, ports, token, kubeconfig), `tls` (CA and server
certificate), `persist` (SQLite store and the commit-on-release lab lock), `hubble` (relay and
per-node gRPC servers) and `server` (the process). Port scheme, all on 127.0.0.1:

    6443          kube-apiserver (HTTPS, bearer token)     --api-port
    4245          hubble-relay (gRPC)                      --relay-port
    42441..42443  hubble on k8s-ctr, k8s-w1, k8s-w2        --hubble-ports
"""
