"""ciliumlab: Cilium + Hubble as one Python program.

    from ciliumlab import Lab
    lab = Lab()
    lab.apply("http-sw-app.yaml")
    lab.exec("tiefighter", "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing")
"""

from .errors import InvalidObject, NotFound
from .lab import ExecResult, Lab

__all__ = ["Lab", "ExecResult", "InvalidObject", "NotFound"]
__version__ = "0.1.0"
