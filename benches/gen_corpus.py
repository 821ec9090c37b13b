#!/usr/bin/env python3
"""Generates one benchmark corpus for benches/compare.sh.

    gen_corpus.py N OUT_DIR BASE_URL PARTS [WIDE]

Writes, for N cases of the Sample 1 / Sample 5 kind spread over agents agent1..agent16:

  OUT_DIR/cases/*.toml          gws-conform cases (one step each, no cleanup)
  OUT_DIR/cases/variables.toml  empty (the cases use no variables)
  OUT_DIR/profile.toml          roles r1..r16 -> agent1..agent16, csrf = false
  OUT_DIR/hurl/all.hurl         the same N requests as one Hurl file
  OUT_DIR/hurl/split/*.hurl     the same N requests split over PARTS files (by agent, so a file keeps
                                one agent's requests in order, as a gws-conform serial group does)
  OUT_DIR/hurl/wide/*.hurl      the same again over WIDE files, when WIDE is given (Hurl runs files,
                                not requests, in parallel: `--jobs WIDE` needs WIDE files)
  OUT_DIR/wrk.lua               a wrk script cycling through the same request mix

Every request is stateless or idempotent on the reference server: an S5 request with an invalid workmode
is refused before anything changes (400, statusCode 2), and an S1 start answers statusCode 0 whether or
not the agent is already logged in (Sample 1's CometD note). So the order in which tools send them does
not matter, and no case needs a cleanup step.

The agent password comes from the environment variable GWS_PASSWORD (Hurl and wrk get a Basic header
computed from it; the corpus lives in a temporary directory that compare.sh deletes).
"""

import base64
import os
import sys

AGENTS = 16
S1_BODY = '{"operationName":"StartContactCenterSession","channels":["voice"]}'
S5_BODY = ('{"operationName":"StartContactCenterSession","workmode":"aManualIn",'
           '"channels":["voice"],"place":"agent1@pizza.com"}')
S5_MESSAGE = 'Parameter \'workmode\' is invalid: "The specified value is not within valid range"'


def kind_of(i):
    """Case i: agent (1-based) and kind. Both kinds hit every agent; the mix is half and half."""
    agent = i % AGENTS + 1
    kind = "s1" if (i // AGENTS) % 2 == 0 else "s5"
    return agent, kind


def case_toml(i, agent, kind):
    head = (
        f'id = "bench-{i:05d}"\n'
        f'title = "bench {kind} #{i} on agent{agent}"\n'
        f'spec = ["{"S1" if kind == "s1" else "S5"}"]\n'
        'provenance = "documented"\n'
        f'agent = "r{agent}"\n\n'
        "[[steps]]\n"
        "[steps.request]\n"
        'method = "POST"\n'
        'path = "/api/v2/me"\n'
        'auth = "basic"\n'
    )
    if kind == "s1":
        return head + (
            'json = { operationName = "StartContactCenterSession", channels = ["voice"] }\n\n'
            "[steps.expect]\n"
            'status = "2xx"\n'
            'content_type = "application/json"\n'
            'schema = "success"\n'
            'match = "subset"\n'
            "body = { statusCode = 0 }\n"
        )
    return head + (
        'json = { operationName = "StartContactCenterSession", workmode = "aManualIn", '
        'channels = ["voice"], place = "agent1@pizza.com" }\n'
        "deliberately_invalid = true\n\n"
        "[steps.expect]\n"
        'status = "4xx"\n'
        'content_type = "application/json"\n'
        'schema = "error"\n'
        'match = "exact"\n'
        "body = { statusCode = 2, statusMessage = "
        + '"' + S5_MESSAGE.replace("\\", "\\\\").replace('"', '\\"') + '" }\n'
    )


def basic(agent, password):
    token = base64.b64encode(f"agent{agent}:{password}".encode()).decode()
    return f"Basic {token}"


def hurl_entry(base_url, agent, kind, password):
    body = S1_BODY if kind == "s1" else S5_BODY
    # Equivalent assertions: the status class and $.statusCode (gws-conform also checks the content
    # type, a JSON Schema and the whole body, so it does strictly more per case).
    if kind == "s1":
        asserts = "status >= 200\nstatus < 300\njsonpath \"$.statusCode\" == 0\n"
    else:
        asserts = "status >= 400\nstatus < 500\njsonpath \"$.statusCode\" == 2\n"
    return (
        f"POST {base_url}/api/v2/me\n"
        f"Authorization: {basic(agent, password)}\n"
        "Accept: application/json\n"
        "Content-Type: application/json\n"
        f"{body}\n"
        "HTTP *\n"
        "[Asserts]\n"
        f"{asserts}\n"
    )


def lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    n, out, base_url, parts = int(sys.argv[1]), sys.argv[2], sys.argv[3].rstrip("/"), int(sys.argv[4])
    wide = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    password = os.environ["GWS_PASSWORD"]
    cases = os.path.join(out, "cases")
    split = os.path.join(out, "hurl", "split")
    os.makedirs(cases, exist_ok=True)
    os.makedirs(split, exist_ok=True)
    with open(os.path.join(cases, "variables.toml"), "w") as f:
        f.write("# The benchmark cases use no variables.\n")
    with open(os.path.join(out, "profile.toml"), "w") as f:
        f.write('name = "bench"\n')
        f.write(f'target = "{base_url}"\n')
        f.write("csrf = false\ntimeout_ms = 5000\nmax_body_bytes = 1048576\ncapabilities = []\n\n")
        f.write('[agents.default]\nusername = "agent1"\npassword = "${env:GWS_PASSWORD}"\n\n')
        for a in range(1, AGENTS + 1):
            f.write(f'[agents.r{a}]\nusername = "agent{a}"\npassword = "${{env:GWS_PASSWORD}}"\n\n')

    split_files = [open(os.path.join(split, f"part-{k:02d}.hurl"), "w") for k in range(parts)]
    wide_dir = os.path.join(out, "hurl", "wide")
    if wide:
        os.makedirs(wide_dir, exist_ok=True)
    wide_files = [open(os.path.join(wide_dir, f"part-{k:02d}.hurl"), "w") for k in range(wide)]
    with open(os.path.join(out, "hurl", "all.hurl"), "w") as all_hurl:
        for i in range(n):
            agent, kind = kind_of(i)
            with open(os.path.join(cases, f"bench-{i:05d}.toml"), "w") as f:
                f.write(case_toml(i, agent, kind))
            entry = hurl_entry(base_url, agent, kind, password)
            all_hurl.write(entry)
            split_files[(agent - 1) % parts].write(entry)
            if wide:
                wide_files[(agent - 1) % wide].write(entry)
    for f in split_files + wide_files:
        f.close()

    # wrk: one request per call, cycling through the corpus's first 2 * AGENTS cases, which hold every
    # (agent, kind) pair once: the same mix as the corpus.
    reqs = []
    for i in range(2 * AGENTS):
        agent, kind = kind_of(i)
        body = S1_BODY if kind == "s1" else S5_BODY
        reqs.append(
            "  wrk.format(\"POST\", \"/api/v2/me\", {[\"Authorization\"] = "
            + lua_string(basic(agent, password))
            + ", [\"Accept\"] = \"application/json\", [\"Content-Type\"] = \"application/json\"}, "
            + lua_string(body) + ")"
        )
    with open(os.path.join(out, "wrk.lua"), "w") as f:
        f.write("-- generated by benches/gen_corpus.py: the corpus's request mix, round robin\n")
        f.write("local requests = {\n" + ",\n".join(reqs) + "\n}\n")
        f.write("local i = 0\n")
        f.write("function request()\n  i = i % #requests + 1\n  return requests[i]\nend\n")


if __name__ == "__main__":
    main()
