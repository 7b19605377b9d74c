"""The peers: other relays a user could run instead of the site, measured the same way.

Each one is installed into a virtualenv of its own (bench/peers/install.py) and started as a
subprocess pinned like daphne, pointed at the bench's fake upstream, with the settings in
this folder (bench/peers/servers.py). `python -m bench.peers --help` installs and checks them.
"""

from __future__ import annotations

from bench.peers.install import Install

LITELLM = Install(
    name="litellm",
    version="1.106.2",
    steps=(("litellm[proxy]==1.106.2",),),
    program="litellm",
)
# torch first, pinned: pip then takes the CPU build (a local wheel where pip is set up with
# one) instead of resolving open-webui's torch requirement to a multi-GB CUDA build.
OPENWEBUI = Install(
    name="openwebui",
    version="0.12.4",
    steps=(("torch==2.13.0",), ("open-webui==0.12.4",)),
    program="open-webui",
)
PEERS = {spec.name: spec for spec in (LITELLM, OPENWEBUI)}
