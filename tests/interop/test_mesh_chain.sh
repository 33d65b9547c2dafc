#!/usr/bin/env bash
# Shapes: a mixed chain of 5 (b1 - e1 - b2 - e2 - b3), a star around an
# edist node, and an edist-only chain of 5 all end as full meshes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mesh_lib.sh"
mesh_setup
for b in b1 b2 b3 b4; do mesh_beam $b; done
mesh_edist e1
mesh_edist e2
mesh_edist e5
mesh_edist e6 --connect e5@127.0.0.1
mesh_edist e7 --connect e5@127.0.0.1
mesh_edist c1
for i in 2 3 4 5; do mesh_edist c$i --connect c$((i - 1))@127.0.0.1; done
for b in b1 b2 b3 b4; do wait_registered $b; done
mesh_run 90 chain
ok "mixed chain, star and edist-only chain meshed"
