#pragma once
// Test-only switch for the JID preparation fast path. The ASCII fast path must give exactly the
// results libidn gives; the tests parse the same table with the fast path on and off and compare.

namespace parley::detail {

// Enabled by default. Not meant to be toggled while other threads parse JIDs.
void setJidFastPathEnabled(bool enabled);

}  // namespace parley::detail
