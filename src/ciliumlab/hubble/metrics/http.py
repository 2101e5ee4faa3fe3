"""`http` (deprecated) and `httpV2`: hubble_http_requests_total, hubble_http_responses_total
(http only) and hubble_http_request_duration_seconds, from L7 HTTP flows.

http counts requests and responses with the flow's own source/destination; httpV2 counts only
responses and inverts source/destination so the labels describe the request (source = client).
`reporter` is client/server/unknown from the counted flow's traffic direction.
"""

from __future__ import annotations

from .api import Handler, latency_seconds, reporter, trace_id

DURATION_HELP = "Quantiles of HTTP request duration in seconds"


class _HttpBase(Handler):
    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        exemplars = config.value("exemplars")
        self.exemplars = exemplars == ("true",)

    def _exemplar(self, flow: dict) -> dict | None:
        if self.exemplars:
            tid = trace_id(flow)
            if tid:
                return {"traceID": tid}
        return None

    def status(self) -> str:
        return self.context.status() + f",exemplars={'true' if self.exemplars else 'false'}"


class HttpHandler(_HttpBase):
    name = "http"
    conflicts = ("httpV2",)

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        ctx = self.context.label_names
        self.requests = self.counter(registry, "http_requests_total", "Count of HTTP requests",
                                     ctx + ("method", "protocol", "reporter"))
        self.responses = self.counter(registry, "http_responses_total", "Count of HTTP responses",
                                      ctx + ("method", "protocol", "status", "reporter"))
        self.duration = self.histogram(registry, "http_request_duration_seconds", DURATION_HELP,
                                       ctx + ("method", "reporter"))

    def process(self, flow: dict) -> None:
        l7 = flow.get("l7")
        if not l7:
            return
        http = l7.get("http")
        if http is None:
            return
        kind = l7.get("type")
        if kind != "REQUEST" and kind != "RESPONSE":
            return
        ctx = self._ctx(flow) if self._ctx else ()
        method, rep = http.get("method", ""), reporter(flow)
        exemplar = self._exemplar(flow)
        if kind == "REQUEST":
            self.requests.child(ctx + (method, http.get("protocol", ""), rep)).inc(1, exemplar)
        else:
            status = str(http.get("code", 0))
            self.responses.child(ctx + (method, http.get("protocol", ""), status, rep)).inc(1, exemplar)
            self.duration.child(ctx + (method, rep)).observe(latency_seconds(l7), exemplar)


class HttpV2Handler(_HttpBase):
    name = "httpV2"
    conflicts = ("http",)

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        ctx = self.context.label_names
        self._ctx = self.context.inverted_values if ctx else None
        self.requests = self.counter(registry, "http_requests_total", "Count of HTTP requests",
                                     ctx + ("method", "protocol", "status", "reporter"))
        self.duration = self.histogram(registry, "http_request_duration_seconds", DURATION_HELP,
                                       ctx + ("method", "reporter"))

    def process(self, flow: dict) -> None:
        l7 = flow.get("l7")
        if not l7 or l7.get("type") != "RESPONSE":
            return
        http = l7.get("http")
        if http is None:
            return
        ctx = self._ctx(flow) if self._ctx else ()
        method, rep = http.get("method", ""), reporter(flow)
        exemplar = self._exemplar(flow)
        self.requests.child(ctx + (method, http.get("protocol", ""), str(http.get("code", 0)), rep)).inc(1, exemplar)
        self.duration.child(ctx + (method, rep)).observe(latency_seconds(l7), exemplar)
