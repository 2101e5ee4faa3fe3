#!/usr/bin/env python3
"""Regenerate the Python protobuf/gRPC modules of the Hubble API.

Sources: src/ciliumlab/hubble/grpc/protos/{flow,observer,peer,relay}/*.proto (written from
shared/spec/hubble/flow-api.md with Cilium's file paths and package names).
Output:  src/ciliumlab/hubble/grpc/gen/<pkg>/<pkg>_pb2.py, _pb2.pyi, _pb2_grpc.py (committed).

The .proto files keep Cilium's import paths (`flow/flow.proto`, `relay/relay.proto`), so the
descriptors registered at run time are byte-compatible with Cilium's (same file names,
packages and type URLs). Only the Python import statements are rewritten so that the modules
import as `ciliumlab.hubble.grpc.gen.<pkg>.<pkg>_pb2`.

Usage:  pip install -e '.[dev]'   (grpcio-tools)   then   python scripts/gen_protos.py
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRPC_DIR = ROOT / "src" / "ciliumlab" / "hubble" / "grpc"
PROTO_DIR = GRPC_DIR / "protos"
GEN_DIR = GRPC_DIR / "gen"
GEN_PKG = "ciliumlab.hubble.grpc.gen"
PACKAGES = ("flow", "relay", "observer", "peer")

_IMPORT_RE = re.compile(r"^(from|import) (" + "|".join(PACKAGES) + r")([. ])", re.M)


def _fix_imports(text: str) -> str:
    # `from flow import flow_pb2 as ...`, `from flow.flow_pb2 import *` (import public)
    return _IMPORT_RE.sub(lambda m: f"{m.group(1)} {GEN_PKG}.{m.group(2)}{m.group(3)}", text)


def main() -> int:
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError:  # pragma: no cover
        print("grpcio-tools is required: pip install -e '.[dev]'", file=sys.stderr)
        return 1
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.glob("*/*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *protos,
        ]
        if protoc.main(args) != 0:
            print("protoc failed", file=sys.stderr)
            return 1
        if GEN_DIR.exists():
            shutil.rmtree(GEN_DIR)
        GEN_DIR.mkdir(parents=True)
        (GEN_DIR / "__init__.py").write_text(
            '"""Generated from ../protos by scripts/gen_protos.py. Do not edit."""\n'
        )
        for pkg in PACKAGES:
            (GEN_DIR / pkg).mkdir()
            (GEN_DIR / pkg / "__init__.py").write_text("")
            for src in sorted((Path(tmp) / pkg).iterdir()):
                (GEN_DIR / pkg / src.name).write_text(_fix_imports(src.read_text()))
    for path in sorted(GEN_DIR.rglob("*.py*")):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
