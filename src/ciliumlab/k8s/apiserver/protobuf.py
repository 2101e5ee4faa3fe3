"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) → JSON-shaped dicts.

kubectl's generator commands (`create namespace|configmap|secret|deployment|service|…`, `expose`)
use the typed client, which sends built-in kinds as protobuf. The body is the 4-byte magic
`k8s\\x00` and a `runtime.Unknown` {1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
4 contentType}; `raw` is the object in the wire format of k8s.io/api's `generated.proto`.

This is a small schema-driven decoder for the kinds those commands send. It yields what the
object's JSON encoding would hold, so the rest of the server sees no difference:

- Go encodes non-pointer fields even when zero (gogo proto2), where JSON's `omitempty` drops
  them: zero scalars are dropped unless the schema marks the field a pointer (`?`), where a sent
  zero is a real value (`replicas: 0`).
- empty sub-messages stay `{}` (like `"status": {}` in JSON), except Time, whose zero is `null`;
- maps are repeated {1 key, 2 value} entries; `bytes` become base64 (Secret `data`);
- IntOrString {1 type, 2 intVal, 3 strVal} and Quantity {1 string} become their JSON scalars;
- embedded Go structs (JSON-inlined, like ProbeHandler in Probe) are merged into the parent;
- unknown fields are skipped; packed and unpacked repeated scalars are both read.

Field numbers are those of kubernetes/api `core/v1`, `apps/v1`, `rbac/v1`, `autoscaling/v1`
and kubernetes/apimachinery `meta/v1`, `util/intstr`, `api/resource` generated.proto.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAX_DEPTH = 64


class ProtobufError(ValueError):
    """The body is not a well-formed Kubernetes protobuf message (→ 400)."""


class UnsupportedKind(ProtobufError):
    """Well-formed, but of a kind this decoder has no schema for (→ 415)."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(f"{kind} ({api_version or 'no apiVersion'})")
        self.api_version = api_version
        self.kind = kind


def is_protobuf(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == MEDIA_TYPE


# -- schemas ----------------------------------------------------------------------------------
# One line per message: `jsonName=fieldNumber[:type][*|?]`. The type defaults to string; scalar
# types are string, bytes, bool, int32, int64; IntOrString, Quantity and Time are the
# apimachinery value types; `map<T>` is a map from string to T; any other capitalised name is a
# message below. `*` repeated, `?` a Go pointer (a sent zero is kept). `_` as the name inlines
# an embedded struct into its parent.
_SOURCE: dict[str, str] = {
    # k8s.io/apimachinery/pkg/apis/meta/v1
    "ObjectMeta": "name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:int64 "
                  "creationTimestamp=8:Time deletionTimestamp=9:Time deletionGracePeriodSeconds=10:int64? "
                  "labels=11:map<string> annotations=12:map<string> ownerReferences=13:OwnerReference* "
                  "finalizers=14*",
    "OwnerReference": "kind=1 name=3 uid=4 apiVersion=5 controller=6:bool? blockOwnerDeletion=7:bool?",
    "LabelSelector": "matchLabels=1:map<string> matchExpressions=2:LabelSelectorRequirement*",
    "LabelSelectorRequirement": "key=1 operator=2 values=3*",
    # k8s.io/api/core/v1
    "Namespace": "metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus",
    "NamespaceSpec": "finalizers=1*",
    "NamespaceStatus": "phase=1",
    "ConfigMap": "metadata=1:ObjectMeta data=2:map<string> binaryData=3:map<bytes> immutable=4:bool?",
    "Secret": "metadata=1:ObjectMeta data=2:map<bytes> type=3 stringData=4:map<string> immutable=5:bool?",
    "ServiceAccount": "metadata=1:ObjectMeta secrets=2:ObjectReference* imagePullSecrets=3:LocalObjectReference* "
                      "automountServiceAccountToken=4:bool?",
    "ObjectReference": "kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 fieldPath=7",
    "LocalObjectReference": "name=1",
    "Service": "metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus",
    "ServiceSpec": "ports=1:ServicePort* selector=2:map<string> clusterIP=3 type=4 externalIPs=5* "
                   "sessionAffinity=7 loadBalancerIP=8 loadBalancerSourceRanges=9* externalName=10 "
                   "externalTrafficPolicy=11 healthCheckNodePort=12:int32 publishNotReadyAddresses=13:bool "
                   "sessionAffinityConfig=14:SessionAffinityConfig ipFamilyPolicy=17? clusterIPs=18* ipFamilies=19* "
                   "allocateLoadBalancerNodePorts=20:bool? loadBalancerClass=21? internalTrafficPolicy=22? "
                   "trafficDistribution=23?",
    "ServicePort": "name=1 protocol=2 port=3:int32 targetPort=4:IntOrString nodePort=5:int32 appProtocol=6?",
    "SessionAffinityConfig": "clientIP=1:ClientIPConfig",
    "ClientIPConfig": "timeoutSeconds=1:int32?",
    "ServiceStatus": "",
    "Pod": "metadata=1:ObjectMeta spec=2:PodSpec status=3:PodStatus",
    "PodStatus": "",
    "PodTemplateSpec": "metadata=1:ObjectMeta spec=2:PodSpec",
    "PodSpec": "volumes=1:Volume* containers=2:Container* restartPolicy=3 terminationGracePeriodSeconds=4:int64? "
               "activeDeadlineSeconds=5:int64? dnsPolicy=6 nodeSelector=7:map<string> serviceAccountName=8 "
               "serviceAccount=9 nodeName=10 hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool "
               "securityContext=14:PodSecurityContext imagePullSecrets=15:LocalObjectReference* hostname=16 "
               "subdomain=17 schedulerName=19 initContainers=20:Container* automountServiceAccountToken=21:bool? "
               "tolerations=22:Toleration* hostAliases=23:HostAlias* priorityClassName=24 priority=25:int32? "
               "shareProcessNamespace=27:bool? runtimeClassName=29? enableServiceLinks=30:bool? "
               "preemptionPolicy=31? overhead=32:map<Quantity> setHostnameAsFQDN=35:bool? os=36:PodOS "
               "hostUsers=37:bool?",
    "PodSecurityContext": "runAsUser=2:int64? runAsNonRoot=3:bool? supplementalGroups=4:int64* fsGroup=5:int64? "
                          "runAsGroup=6:int64? seccompProfile=10:SeccompProfile",
    "SeccompProfile": "type=1 localhostProfile=2?",
    "PodOS": "name=1",
    "HostAlias": "ip=1 hostnames=2*",
    "Toleration": "key=1 operator=2 value=3 effect=4 tolerationSeconds=5:int64?",
    "Container": "name=1 image=2 command=3* args=4* workingDir=5 ports=6:ContainerPort* env=7:EnvVar* "
                 "resources=8:ResourceRequirements volumeMounts=9:VolumeMount* livenessProbe=10:Probe "
                 "readinessProbe=11:Probe terminationMessagePath=13 imagePullPolicy=14 "
                 "securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool "
                 "envFrom=19:EnvFromSource* terminationMessagePolicy=20 startupProbe=22:Probe restartPolicy=24?",
    "ContainerPort": "name=1 hostPort=2:int32 containerPort=3:int32 protocol=4 hostIP=5",
    "EnvVar": "name=1 value=2 valueFrom=3:EnvVarSource",
    "EnvVarSource": "fieldRef=1:ObjectFieldSelector resourceFieldRef=2:ResourceFieldSelector "
                    "configMapKeyRef=3:KeySelector secretKeyRef=4:KeySelector",
    "ObjectFieldSelector": "apiVersion=1 fieldPath=2",
    "ResourceFieldSelector": "containerName=1 resource=2 divisor=3:Quantity",
    "KeySelector": "_=1:LocalObjectReference key=2 optional=3:bool?",
    "EnvFromSource": "prefix=1 configMapRef=2:EnvSource secretRef=3:EnvSource",
    "EnvSource": "_=1:LocalObjectReference optional=2:bool?",
    "ResourceRequirements": "limits=1:map<Quantity> requests=2:map<Quantity>",
    "VolumeMount": "name=1 readOnly=2:bool mountPath=3 subPath=4 mountPropagation=5? subPathExpr=6",
    "Probe": "_=1:ProbeHandler initialDelaySeconds=2:int32 timeoutSeconds=3:int32 periodSeconds=4:int32 "
             "successThreshold=5:int32 failureThreshold=6:int32 terminationGracePeriodSeconds=7:int64?",
    "ProbeHandler": "exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction grpc=4:GRPCAction",
    "ExecAction": "command=1*",
    "HTTPGetAction": "path=1 port=2:IntOrString host=3 scheme=4 httpHeaders=5:HTTPHeader*",
    "HTTPHeader": "name=1 value=2",
    "TCPSocketAction": "port=1:IntOrString host=2",
    "GRPCAction": "port=1:int32 service=2?",
    "SecurityContext": "capabilities=1:Capabilities privileged=2:bool? runAsUser=4:int64? runAsNonRoot=5:bool? "
                       "readOnlyRootFilesystem=6:bool? allowPrivilegeEscalation=7:bool? runAsGroup=8:int64? "
                       "seccompProfile=11:SeccompProfile",
    "Capabilities": "add=1* drop=2*",
    "Volume": "name=1 _=2:VolumeSource",
    "VolumeSource": "hostPath=1:HostPathVolumeSource emptyDir=2:EmptyDirVolumeSource "
                    "secret=6:SecretVolumeSource persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource "
                    "configMap=19:ConfigMapVolumeSource",
    "HostPathVolumeSource": "path=1 type=2?",
    "EmptyDirVolumeSource": "medium=1 sizeLimit=2:Quantity",
    "SecretVolumeSource": "secretName=1 items=2:KeyToPath* defaultMode=3:int32? optional=4:bool?",
    "ConfigMapVolumeSource": "_=1:LocalObjectReference items=2:KeyToPath* defaultMode=3:int32? optional=4:bool?",
    "PersistentVolumeClaimVolumeSource": "claimName=1 readOnly=2:bool",
    "KeyToPath": "key=1 path=2 mode=3:int32?",
    # k8s.io/api/apps/v1
    "Deployment": "metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus",
    "DeploymentSpec": "replicas=1:int32? selector=2:LabelSelector template=3:PodTemplateSpec "
                      "strategy=4:DeploymentStrategy minReadySeconds=5:int32 revisionHistoryLimit=6:int32? "
                      "paused=7:bool progressDeadlineSeconds=9:int32?",
    "DeploymentStrategy": "type=1 rollingUpdate=2:RollingUpdateDeployment",
    "RollingUpdateDeployment": "maxUnavailable=1:IntOrString? maxSurge=2:IntOrString?",
    "DeploymentStatus": "",
    # k8s.io/api/autoscaling/v1 (PUT …/scale)
    "Scale": "metadata=1:ObjectMeta spec=2:ScaleSpec status=3:ScaleStatus",
    "ScaleSpec": "replicas=1:int32?",
    "ScaleStatus": "replicas=1:int32 selector=2",
    # k8s.io/api/rbac/v1
    "Role": "metadata=1:ObjectMeta rules=2:PolicyRule*",
    "ClusterRole": "metadata=1:ObjectMeta rules=2:PolicyRule* aggregationRule=3:AggregationRule",
    "PolicyRule": "verbs=1* apiGroups=2* resources=3* resourceNames=4* nonResourceURLs=5*",
    "AggregationRule": "clusterRoleSelectors=1:LabelSelector*",
    "RoleBinding": "metadata=1:ObjectMeta subjects=2:Subject* roleRef=3:RoleRef",
    "ClusterRoleBinding": "metadata=1:ObjectMeta subjects=2:Subject* roleRef=3:RoleRef",
    "Subject": "kind=1 apiGroup=2 name=3 namespace=4",
    "RoleRef": "apiGroup=1 kind=2 name=3",
}

# (apiVersion, kind) of a request body → its message.
KINDS: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "Namespace",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("v1", "Service"): "Service",
    ("v1", "Pod"): "Pod",
    ("apps/v1", "Deployment"): "Deployment",
    ("autoscaling/v1", "Scale"): "Scale",
    ("rbac.authorization.k8s.io/v1", "Role"): "Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "ClusterRoleBinding",
}

SCALARS = ("string", "bytes", "bool", "int32", "int64")
VALUES = ("IntOrString", "Quantity", "Time")
_VARINT = ("bool", "int32", "int64")


@dataclass(frozen=True)
class Field:
    name: str  # "" = embedded struct, inlined into the parent
    type: str  # a scalar, a value type, a message name
    repeated: bool = False
    pointer: bool = False
    map_of: str = ""  # map<string, map_of>; `type` is then "map"


_TOKEN = re.compile(r"^(\w+)=(\d+)(?::(map<(\w+)>|\w+))?([*?]?)$")


def _parse(source: dict[str, str]) -> dict[str, dict[int, Field]]:
    schemas: dict[str, dict[int, Field]] = {}
    for message, spec in source.items():
        fields: dict[int, Field] = {}
        for token in spec.split():
            m = _TOKEN.match(token)
            if not m:
                raise ValueError(f"{message}: bad field spec {token!r}")
            name, num, typ, map_of, flag = m.groups()
            typ = typ or "string"
            fields[int(num)] = Field("" if name == "_" else name, "map" if map_of else typ, flag == "*", flag == "?",
                                     map_of or "")
        schemas[message] = fields
    for message, fields in schemas.items():
        for f in fields.values():
            ref = f.map_of or f.type
            if ref not in SCALARS and ref not in VALUES and ref != "map" and ref not in schemas:
                raise ValueError(f"{message}.{f.name or '<inline>'}: unknown type {ref}")
    return schemas


SCHEMAS = _parse(_SOURCE)
_UNKNOWN = _parse({"Unknown": "typeMeta=1:TypeMeta raw=2:bytes contentEncoding=3 contentType=4",
                   "TypeMeta": "apiVersion=1 kind=2"})


# -- wire format ------------------------------------------------------------------------------
def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint too long")


def _fields(data: bytes):
    """(field number, wire type, value): an int for varints, bytes for the rest."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise ProtobufError("invalid field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ProtobufError(f"field {num}: length {size} runs past the end of the message")
            value, pos = data[pos:pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            if pos + size > len(data):
                raise ProtobufError(f"field {num}: truncated fixed-width value")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ProtobufError(f"field {num}: unsupported wire type {wire}")
        yield num, wire, value


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:  # int32 is sign-extended to 64 bits on the wire; keep Go's truncation
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)
    return value


def _scalar(typ: str, wire: int, value: Any, where: str) -> Any:
    if typ in _VARINT:
        if wire != 0:
            raise ProtobufError(f"{where}: expected a varint, got wire type {wire}")
        if typ == "bool":
            return value != 0
        return _signed(value, 32 if typ == "int32" else 64)
    if wire != 2:
        raise ProtobufError(f"{where}: expected length-delimited {typ}, got wire type {wire}")
    if typ == "bytes":
        return base64.b64encode(value).decode("ascii")
    return value.decode("utf-8", errors="replace")


def _zero(value: Any) -> bool:
    return value in ("", 0, False) and not isinstance(value, dict)


def _value(typ: str, wire: int, value: Any, where: str, depth: int) -> Any:
    """One (non-repeated-wrapper) value of type `typ`; None means Go's zero/null."""
    if typ in SCALARS:
        return _scalar(typ, wire, value, where)
    if wire != 2:
        raise ProtobufError(f"{where}: expected a message, got wire type {wire}")
    if typ == "IntOrString":
        kind, ival, sval = 0, 0, ""
        for num, w, v in _fields(value):
            if num == 1:
                kind = _scalar("int64", w, v, where)
            elif num == 2:
                ival = _scalar("int32", w, v, where)
            elif num == 3:
                sval = _scalar("string", w, v, where)
        return sval if kind == 1 else ival
    if typ == "Quantity":
        text = ""
        for num, w, v in _fields(value):
            if num == 1:
                text = _scalar("string", w, v, where)
        return text
    if typ == "Time":
        seconds = nanos = 0
        for num, w, v in _fields(value):
            if num == 1:
                seconds = _scalar("int64", w, v, where)
            elif num == 2:
                nanos = _scalar("int32", w, v, where)
        if not seconds and not nanos:
            return None
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            raise ProtobufError(f"{where}: timestamp {seconds} out of range") from None
    return _message(value, typ, depth + 1, where)


def _message(data: bytes, message: str, depth: int = 0, where: str = "") -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ProtobufError("message nested too deeply")
    schema = SCHEMAS[message]
    out: dict[str, Any] = {}
    for num, wire, raw in _fields(data):
        f = schema.get(num)
        if f is None:
            continue  # a field this server does not model: skipped, like an unknown JSON field
        path = f"{where}.{f.name}" if where and f.name else (f.name or where or message)
        if f.type == "map":
            if wire != 2:
                raise ProtobufError(f"{path}: expected a map entry, got wire type {wire}")
            key, val = "", None
            for n, w, v in _fields(raw):
                if n == 1:
                    key = _scalar("string", w, v, path)
                elif n == 2:
                    val = _value(f.map_of, w, v, f"{path}[{key}]", depth)
            if val is None:
                val = {"bytes": "", "bool": False, "int32": 0, "int64": 0}.get(f.map_of, "")
            out.setdefault(f.name, {})[key] = val
            continue
        if f.repeated:
            if wire == 2 and f.type in _VARINT:  # packed
                pos, items = 0, out.setdefault(f.name, [])
                while pos < len(raw):
                    v, pos = _varint(raw, pos)
                    items.append(_scalar(f.type, 0, v, path))
                continue
            out.setdefault(f.name, []).append(_value(f.type, wire, raw, path, depth))
            continue
        value = _value(f.type, wire, raw, path, depth)
        if not f.name:  # embedded struct: its fields are the parent's
            out.update(value)
        elif value is None or (not f.pointer and _zero(value)):
            out.pop(f.name, None)
        elif isinstance(value, dict) and isinstance(out.get(f.name), dict):
            out[f.name].update(value)  # a repeated occurrence of a message field merges into it
        else:
            out[f.name] = value
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """A `k8s\\x00` + runtime.Unknown request body → the object as the JSON decoder would give it.

    Raises UnsupportedKind for a kind without a schema here, ProtobufError for anything malformed.
    """
    if not body.startswith(MAGIC):
        raise ProtobufError(f"provided data does not appear to be a protobuf message, expected prefix "
                            f"{list(MAGIC)}")
    envelope = _parse_unknown(body[len(MAGIC):])
    meta = envelope.get("typeMeta") or {}
    api_version, kind = meta.get("apiVersion", ""), meta.get("kind", "")
    if envelope.get("contentEncoding"):
        raise ProtobufError(f"unsupported content encoding {envelope['contentEncoding']!r}")
    if envelope.get("contentType") not in (None, "", MEDIA_TYPE):
        raise ProtobufError(f"unsupported nested content type {envelope['contentType']!r}")
    message = KINDS.get((api_version, kind))
    if message is None:
        if not kind:
            raise ProtobufError("Object 'Kind' is missing in the protobuf envelope")
        raise UnsupportedKind(api_version, kind)
    obj = _message(envelope.get("raw", b""), message)
    return {"apiVersion": api_version, "kind": kind, **obj}


def _parse_unknown(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for num, wire, value in _fields(data):
        if wire != 2 or num not in (1, 2, 3, 4):
            continue
        if num == 1:
            tm: dict[str, str] = {}
            for n, w, v in _fields(value):
                if n in (1, 2) and w == 2:
                    tm["apiVersion" if n == 1 else "kind"] = v.decode("utf-8", errors="replace")
            out["typeMeta"] = tm
        elif num == 2:
            out["raw"] = value
        else:
            out["contentEncoding" if num == 3 else "contentType"] = value.decode("utf-8", errors="replace")
    return out
