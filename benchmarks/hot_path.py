"""Benchmark: where a lookup's CPU goes, stage by stage, in process, against the bare endpoint.

Calls the WSGI application directly (no server, no sockets) for public hot lookups (answers
kept by the answer cache), public cold lookups (every name asked once) and registrar hot
lookups (a real token), with rate limiting on and limits lifted as `lookup.py` runs it, then
the bare Flask app (`bare_app.py`) with a body of the same size, in the same process.

Each stage is a function wrapped with a timer that keeps its own time (its time less that of
the stages it calls); what no stage claims is Flask and Werkzeug (environ, request and
response objects, routing, hooks' dispatch). Timers cost about 0.3 µs a call.

    python benchmarks/hot_path.py                     # 100k domains, 3,000 requests per shape
    python benchmarks/hot_path.py --requests 5000 --db /path/lookup-100000-7.sqlite3
    python benchmarks/hot_path.py --without ratelimit telemetry session   # what they cost
"""

from __future__ import annotations

import functools
import gc
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from harness import ROOT, benchmark_parser, database

ELAPSED: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
_stack: list[float] = []  # per open stage: time its children took


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stack.append(0.0)
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = time.perf_counter() - start
            children = _stack.pop()
            ELAPSED[name] += spent - children
            CALLS[name] += 1
            if _stack:
                _stack[-1] += spent

    return wrapper


def patch(owner: Any, attr: str, name: str) -> None:
    setattr(owner, attr, timed(name, getattr(owner, attr)))


def instrument(app: Any) -> None:
    """Wrap every stage of the RDAP read path (module globals, so the callers find the wrapper)."""
    from rdap import answer_cache, document, lookup, prepared, repository
    from rdap import ratelimit as core_limits
    from rdap.render import rdap_json
    from rdap.views import rdap as view
    from rdap.views import telemetry

    hooks = {
        "refuse_oversized": "framing checks (sizes)",
        "check_host": "Host check",
        "preflight": "CORS preflight check",
        "identify": "principal identification",
        "_start": "telemetry start (request id)",
        "identify_person": "web session principal",
        "cors": "CORS headers",
        "caching": "Cache-Control / Vary",
        "_finish": "telemetry finish (metrics, access log)",
        "secure_html": "HTML security headers",
    }
    for funcs in (app.before_request_funcs, app.after_request_funcs):
        for key, fs in funcs.items():
            funcs[key] = [timed(hooks.get(f.__name__, f.__name__), f) for f in fs]
    patch(core_limits.RateLimits, "hit", "rate limiting (RateLimits.hit)")
    patch(view, "answer_key", "answer key (Accept, URLs)")
    patch(view, "registry_facts", "data-version check (facts)")
    patch(answer_cache.AnswerCache, "get", "answer cache get")
    patch(view, "rdap_response", "response object")
    patch(view, "computed", "miss: connection, parse, glue")
    patch(view, "context", "miss: lookup context")
    patch(view, "read_registry_facts", "miss: registry facts read")
    patch(prepared.Prepared, "rows", "miss: DB reads (SQL)")
    patch(prepared.PreparedBatch, "rows", "miss: DB reads (SQL)")
    patch(repository.Repository, "domain", "miss: rows to records")
    patch(repository.Repository, "database_updated_at", "miss: rows to records")
    patch(document, "domain_document", "miss: document build")
    patch(lookup, "redact", "miss: redaction")
    patch(rdap_json, "render", "miss: render JSON")
    patch(answer_cache.AnswerCache, "keep", "miss: answer cache keep")
    patch(telemetry.metrics, "observe_request", "telemetry: metrics")


def _without_telemetry(app: Any) -> None:
    from rdap.views import telemetry

    for funcs in (app.before_request_funcs, app.after_request_funcs):
        funcs[None] = [f for f in funcs[None] if f not in (telemetry._start, telemetry._finish)]


def _session_serializer_once(app: Any) -> None:
    from flask.sessions import SecureCookieSessionInterface

    class Once(SecureCookieSessionInterface):
        serializer: Any = None

        def get_signing_serializer(self, app: Any) -> Any:
            if self.serializer is None:
                self.serializer = super().get_signing_serializer(app)
            return self.serializer

    app.session_interface = Once()


# Parts --without switches off (the limiter through its setting, before the app is made).
WITHOUT: dict[str, Callable[[Any], None]] = {
    "ratelimit": lambda _app: None,
    "session": _session_serializer_once,
    "telemetry": _without_telemetry,
}


def run(app: Any, paths: list[str], headers: dict[str, str]) -> tuple[float, float]:
    """(wall µs, CPU µs) per request over `paths`; stage timers accumulate."""
    from werkzeug.test import EnvironBuilder

    environs = []
    for path in paths:
        builder = EnvironBuilder(path=path, headers=headers, base_url="http://127.0.0.1:8080")
        environs.append(builder.get_environ())
        builder.close()
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> Any:
        statuses.append(status)
        return lambda _data: None

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for environ in environs:
        body = app(dict(environ), start_response)
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise SystemExit(f"{len(bad)} answers were not 200: {bad[:3]}")
    return wall / len(paths) * 1e6, cpu / len(paths) * 1e6


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument(
        "--without",
        nargs="+",
        choices=sorted(WITHOUT),
        default=[],
        help="switch parts off (or, for session, build its serializer once) to see their cost",
    )
    args = parser.parse_args()
    db_url = f"sqlite:///{database(args)}"

    import lookup as lookup_bench

    env = {
        "RDAP_DATABASE_URL": db_url,
        "RDAP_ACCESS_LOG": "false",
        "RDAP_RATELIMIT_ENABLED": "false" if "ratelimit" in args.without else "true",
        "RDAP_REQUIRE_TLS": "false",
        "RDAP_SECRET_KEY": "benchmark-secret",
        "RDAP_OAUTH_TOKEN_TTL": "7200",
    }
    for tier in ("PUBLIC", "REGISTRAR", "REQUESTER", "LAW_ENFORCEMENT", "STAFF"):
        env[f"RDAP_RATELIMIT_{tier}"] = "100000000/minute"
    os.environ.update(env)
    names = lookup_bench.all_names(db_url, args.seed)
    rng = random.Random(args.seed)
    n = args.requests

    from rdap import create_app

    app = create_app()
    for name in args.without:
        WITHOUT[name](app)
    instrument(app)
    client = app.test_client()
    registrar_headers = {"Accept": "application/rdap+json"}
    auth = _token(client, db_url, env)
    registrar_headers["Authorization"] = f"Bearer {auth}"
    public_headers = {"Accept": "application/rdap+json"}

    popular = names[-lookup_bench.POPULAR :]
    shapes: dict[str, tuple[list[str], list[str], dict[str, str]]] = {
        # (warm-up, measured, headers)
        "public hot": (popular, rng.choices(popular, k=n), public_headers),
        "public cold": (names[:500], names[500 : 500 + n], public_headers),
        "registrar hot": (popular, rng.choices(popular, k=n), registrar_headers),
    }
    results: dict[str, Any] = {}
    body_size = 0
    for shape, (warm, measured, headers) in shapes.items():
        run(app, [f"/domain/{name}" for name in warm], headers)
        ELAPSED.clear()
        CALLS.clear()
        wall, cpu = run(app, [f"/domain/{name}" for name in measured], headers)
        stages = {k: round(v / n * 1e6, 1) for k, v in ELAPSED.items()}
        stages["Flask/Werkzeug (unclaimed)"] = round(wall - sum(stages.values()), 1)
        results[shape] = {"wall_us": round(wall, 1), "cpu_us": round(cpu, 1), "stages": stages}
        print(f"{shape}: {json.dumps(results[shape])}", file=sys.stderr)
        if shape == "public hot":
            body_size = len(client.get(f"/domain/{popular[0]}", headers=headers).data)

    # The bare endpoint, same process, same body size.
    os.environ["BARE_BODY_FILE"] = "/dev/null"
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bare_app

    bare_app.BODY = b"x" * body_size
    bare_paths = [f"/domain/{name}" for name in rng.choices(popular, k=n)]
    run(bare_app.app, bare_paths[:500], public_headers)
    wall, cpu = run(bare_app.app, bare_paths, public_headers)
    results["bare"] = {"wall_us": round(wall, 1), "cpu_us": round(cpu, 1)}
    for shape in shapes:
        results[shape]["ratio_cpu_bare_over_rdapd"] = round(cpu / results[shape]["cpu_us"], 3)
    report = {"body_bytes": body_size, "requests": n, "without": args.without, "results": results}
    print(json.dumps(report, indent=2))


def _token(client: Any, db_url: str, env: dict[str, str]) -> str:
    """A registrar client created in the database, then a token from /oauth/token."""
    import subprocess

    import lookup as lookup_bench

    created = subprocess.run(
        [
            *(sys.executable, "-m", "rdap", "client", "create", "--role", "registrar"),
            *("--name", "benchmark", "--registrar", str(lookup_bench.first_registrar(db_url))),
            "--json",
        ],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    made = json.loads(created.stdout)
    answer = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": made["client_id"],
            "client_secret": made["client_secret"],
        },
    )
    token: str = answer.get_json()["access_token"]
    return token


if __name__ == "__main__":
    main()
