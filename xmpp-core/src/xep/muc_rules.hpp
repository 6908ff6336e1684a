#pragma once
// XEP-0045 roles, affiliations and the rules that join them: who may enter a room, who may kick
// or ban whom, who may change a nick's or a JID's standing. Pure functions, so the rules are
// tested without a server (tests/unit/xep/muc_rules_test.cpp) and the room code only asks.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::xep::muc {

// Ordered by privilege: comparisons mean "at least".
enum class Role { None, Visitor, Participant, Moderator };
enum class Affiliation { Outcast, None, Member, Admin, Owner };

std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);
std::string_view affiliationName(Affiliation affiliation);
std::optional<Affiliation> parseAffiliation(std::string_view name);

// §5.1.2: owners and admins moderate; in a moderated room the unaffiliated only listen.
Role defaultRole(Affiliation affiliation, bool moderated);

// Why a join is refused (§7.2), in the order the XEP checks them.
enum class JoinRefusal { None, Banned, MembersOnly, BadPassword, Full, NickInUse };

struct JoinRequest {
  Affiliation affiliation = Affiliation::None;
  bool members_only = false;
  bool password_protected = false;
  bool password_matches = false;
  size_t occupants = 0;     // already in the room
  size_t max_users = 0;     // 0: no limit
  bool nick_taken = false;  // by another user (see nickTaken)
};
JoinRefusal checkJoin(const JoinRequest& request);
// The stanza error condition for a refusal (§7.2.x); empty for None.
std::string_view refusalCondition(JoinRefusal refusal);

// A nick is taken when another user (another bare JID) holds it; the same user may join again
// from another resource under the same nick (§7.2.9 multi-session nicks).
bool nickTaken(std::string_view holder_bare, std::string_view joiner_bare);

// §8.2: a moderator kicks; nobody kicks an owner or admin, or someone of higher affiliation.
bool mayKick(Role actor_role, Affiliation actor_affiliation, Affiliation target_affiliation);

// §8.2, §8.4-§8.6, §9.6-§9.7: whether an occupant may give another occupant `new_role`.
// Kicking (none) follows mayKick. Voice (visitor ↔ participant) is a moderator's: nobody takes it
// from an admin or owner, and a moderator takes it only from someone of lower affiliation (or
// none). Moderator status is granted and revoked by admins and owners, never from an admin or
// owner, whose moderator role comes with their affiliation.
bool mayChangeRole(Role actor_role, Affiliation actor_affiliation, Role target_role,
                   Affiliation target_affiliation, Role new_role);

// §9, §10: owners change any affiliation; admins only among outcast/none/member and never an
// admin's or owner's; others nothing.
bool mayChangeAffiliation(Affiliation actor, Affiliation target_now, Affiliation target_new);

// §7.8.2: who may invite to a members-only room (and so make the invitee a member): admins and
// owners, and members when the room lets them.
bool mayInviteToMembersOnly(Affiliation inviter, bool members_may_invite);

// What about a room's configuration concerns its occupants' privacy (§10.2.1).
struct PrivacySettings {
  bool logging = false;        // the discussion is archived
  bool non_anonymous = false;  // everyone sees real JIDs
};
// The status codes of the message that tells occupants the configuration changed: always 104,
// then 170/171 for logging switched on/off and 172/173 for becoming non-/semi-anonymous.
std::vector<std::string> configChangeCodes(const PrivacySettings& before,
                                           const PrivacySettings& now);

// §8.1: moderators change the subject, participants too when the room allows it.
bool mayChangeSubject(Role role, bool occupants_may_change);

// §7.4: visitors in a moderated room have no voice.
bool maySpeak(Role role);

}  // namespace parley::xep::muc
