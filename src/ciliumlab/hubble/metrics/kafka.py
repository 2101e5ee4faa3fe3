"""`kafka`: hubble_kafka_requests_total and hubble_kafka_request_duration_seconds from L7
Kafka request flows."""

from __future__ import annotations

from .api import Handler, latency_seconds, reporter

# the handler's own Help texts (the docs table says "Count of Kafka requests by topic" /
# "Histogram of Kafka request duration by topic"; the code registers these)
REQUESTS_HELP = "Count of Kafka requests"
DURATION_HELP = "Quantiles of HTTP request duration in seconds"


class KafkaHandler(Handler):
    name = "kafka"

    def __init__(self, registry, config) -> None:
        super().__init__(registry, config)
        ctx = self.context.label_names
        self.requests = self.counter(registry, "kafka_requests_total", REQUESTS_HELP,
                                     ctx + ("topic", "api_key", "error_code", "reporter"))
        self.duration = self.histogram(registry, "kafka_request_duration_seconds", DURATION_HELP,
                                       ctx + ("topic", "api_key", "reporter"))

    def process(self, flow: dict) -> None:
        l7 = flow.get("l7")
        if not l7:
            return
        kafka = l7.get("kafka")
        if kafka is None or l7.get("type") != "REQUEST":
            return
        ctx = self._ctx(flow) if self._ctx else ()
        topic, api_key, rep = kafka.get("topic", ""), kafka.get("api_key", ""), reporter(flow)
        self.requests.inc(ctx + (topic, api_key, str(kafka.get("error_code", 0)), rep))
        self.duration.child(ctx + (topic, api_key, rep)).observe(latency_seconds(l7))
