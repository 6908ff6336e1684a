#pragma once
// Phase muc: group chat fan-out (XEP-0045). N occupants join one room; S of them each send
// groupchat messages at a fixed rate R; every message goes to all N occupants (the sender
// included, as its echo). Reports delivered copies per second, latency from sending to each
// occupant's receipt (p50/p99), and server CPU per sent message and per delivered copy.
#include "loadgen_support.hpp"

namespace parley::bench {

void phaseMuc(Env& env);

}  // namespace parley::bench
