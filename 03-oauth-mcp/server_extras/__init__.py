"""Lesson 03's resource server beyond the concept: skip on a first read.

`server/` imports each of these in one line. The defences are always in force; read them when you
want to know how one works rather than what it is for:

- `json_answers.py`: what the authorization server and the upstream answer, read within bounds and
  in a known shape, so a hostile or broken server cannot crash, stall or fill this one;
- `kept.py`: the issuer's metadata and keys, kept, and fetched again at a bounded rate, so that
  neither a failing authorization server nor tokens naming made-up keys make us hammer it;
- `request_body.py`: the JSON-RPC body the gate reads before the SDK does, within the SDK's size limit;
- `algorithms.py`: the signing algorithms a token may name: asymmetric, and advertised by the issuer;
- `dns_rebinding.py`: the Host and Origin headers a request may carry (DNS rebinding), for every bind;
- `client_auth.py`: HTTP Basic as OAuth clients must send it, each part form-urlencoded first.

Beside this package, `production/`: the same server as a deployment runs it (introspection, decisions
kept, a database, replicas).
"""
