"""`ciliumlab demo starwars`: the seed's Star Wars walk-through, run in the embedded lab.

Each step prints the command a user would type and what the lab answers, so a newcomer can
read the whole demo top to bottom and then repeat any command against `ciliumlab up`.
"""

from __future__ import annotations

from importlib import resources

import click

from ..errors import InvalidObject, NotFound
from ..lab import Lab
from .tables import cnp_table, pods_table

CURL = "curl -s -XPOST deathstar.default.svc.cluster.local/v1/request-landing"
CURL_PUT = "curl -s -XPUT deathstar.default.svc.cluster.local/v1/exhaust-port"


def _manifest(name: str) -> str:
    return resources.files("ciliumlab.data.starwars").joinpath(name).read_text()


class DemoPrinter:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def say(self, text: str) -> None:
        click.secho(f"\n# {text}", fg="cyan")

    def command(self, text: str) -> None:
        click.secho(f"$ {text}", bold=True)

    def out(self, text: str) -> None:
        if text:
            click.echo(text.rstrip("\n"))

    def apply(self, name: str, verb: str = "apply") -> None:
        self.command(f"kubectl {verb} -f {name}")
        self.out("\n".join(self.lab.apply(_manifest(name))))

    def observe(self, *flags: str) -> None:
        self.command("hubble observe " + " ".join(flags))
        self.out(self.lab.hubble_observe(*flags))

    def exec(self, pod: str, cmd: str) -> None:
        self.command(f"kubectl exec {pod} -- {cmd}")
        result = self.lab.exec(pod, cmd)
        self.out(result.stdout)
        self.out(result.stderr)
        if result.exit_code:
            click.echo(f"command terminated with exit code {result.exit_code}")


def run_starwars(lab: Lab | None = None) -> None:
    lab = lab or Lab()
    p = DemoPrinter(lab)
    p.say("Deploy the demo: the deathstar service and deployment, a tiefighter and an xwing")
    p.apply("http-sw-app.yaml")
    p.command("kubectl get pod -o wide --show-labels")
    p.out(pods_table(lab, "default", wide=True, show_labels=True))
    p.say("No policy yet: both ships can land")
    p.exec("xwing", CURL)
    p.exec("tiefighter", CURL)
    p.say("L3/L4 policy: only org=empire may reach the deathstar on 80/TCP")
    p.apply("sw_l3_l4_policy.yaml")
    p.command("kubectl get cnp")
    p.out(cnp_table(lab, "default"))
    p.exec("tiefighter", CURL)
    p.say("The xwing's SYNs are now dropped (Policy denied); curl gives up after 2 s")
    p.exec("xwing", CURL + " --connect-timeout 2")
    p.say("But L3/L4 policy lets the tiefighter hit the dangerous API")
    p.exec("tiefighter", CURL_PUT)
    p.say("L7 policy: only POST /v1/request-landing is allowed")
    p.apply("sw_l3_l4_l7_policy.yaml")
    p.exec("tiefighter", CURL)
    p.exec("tiefighter", CURL_PUT)
    p.exec("xwing", CURL + " --connect-timeout 2")
    p.say("What Hubble saw: the HTTP calls to the deathstar, and everything it dropped")
    p.observe("--pod", "deathstar", "--protocol", "http")
    p.observe("--pod", "deathstar", "--verdict", "DROPPED")
    p.say("Clean up")
    p.command("kubectl delete -f http-sw-app.yaml")
    p.out("\n".join(lab.delete(_manifest("http-sw-app.yaml"))))
    p.command("kubectl delete cnp rule1")
    p.out(lab.delete_object("cnp", "rule1"))


@click.group("demo")
def demo() -> None:
    """Walk through the seed's demos in an embedded lab."""


@demo.command("starwars")
def starwars() -> None:
    """The Star Wars demo: no policy, L3/L4 policy, L7 policy, clean-up."""
    try:
        run_starwars()
    except (InvalidObject, NotFound) as exc:
        raise click.ClickException(str(exc)) from None
