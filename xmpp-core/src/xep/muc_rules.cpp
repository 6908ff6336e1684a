#include "xep/muc_rules.hpp"

namespace parley::xep::muc {

std::string_view roleName(Role role) {
  switch (role) {
    case Role::None:
      return "none";
    case Role::Visitor:
      return "visitor";
    case Role::Participant:
      return "participant";
    case Role::Moderator:
      return "moderator";
  }
  return "none";
}

std::optional<Role> parseRole(std::string_view name) {
  if (name == "none") return Role::None;
  if (name == "visitor") return Role::Visitor;
  if (name == "participant") return Role::Participant;
  if (name == "moderator") return Role::Moderator;
  return std::nullopt;
}

std::string_view affiliationName(Affiliation affiliation) {
  switch (affiliation) {
    case Affiliation::Outcast:
      return "outcast";
    case Affiliation::None:
      return "none";
    case Affiliation::Member:
      return "member";
    case Affiliation::Admin:
      return "admin";
    case Affiliation::Owner:
      return "owner";
  }
  return "none";
}

std::optional<Affiliation> parseAffiliation(std::string_view name) {
  if (name == "outcast") return Affiliation::Outcast;
  if (name == "none") return Affiliation::None;
  if (name == "member") return Affiliation::Member;
  if (name == "admin") return Affiliation::Admin;
  if (name == "owner") return Affiliation::Owner;
  return std::nullopt;
}

Role defaultRole(Affiliation affiliation, bool moderated) {
  if (affiliation >= Affiliation::Admin) return Role::Moderator;
  if (affiliation == Affiliation::Outcast) return Role::None;
  if (affiliation == Affiliation::Member) return Role::Participant;
  return moderated ? Role::Visitor : Role::Participant;
}

JoinRefusal checkJoin(const JoinRequest& r) {
  if (r.affiliation == Affiliation::Outcast) return JoinRefusal::Banned;
  if (r.members_only && r.affiliation < Affiliation::Member) return JoinRefusal::MembersOnly;
  if (r.password_protected && !r.password_matches && r.affiliation < Affiliation::Owner) {
    return JoinRefusal::BadPassword;
  }
  // §7.2.10: admins and owners may enter a full room.
  if (r.max_users > 0 && r.occupants >= r.max_users && r.affiliation < Affiliation::Admin) {
    return JoinRefusal::Full;
  }
  if (r.nick_taken) return JoinRefusal::NickInUse;
  return JoinRefusal::None;
}

std::string_view refusalCondition(JoinRefusal refusal) {
  switch (refusal) {
    case JoinRefusal::None:
      return {};
    case JoinRefusal::Banned:
      return "forbidden";
    case JoinRefusal::MembersOnly:
      return "registration-required";
    case JoinRefusal::BadPassword:
      return "not-authorized";
    case JoinRefusal::Full:
      return "service-unavailable";
    case JoinRefusal::NickInUse:
      return "conflict";
  }
  return "forbidden";
}

bool nickTaken(std::string_view holder_bare, std::string_view joiner_bare) {
  return !holder_bare.empty() && holder_bare != joiner_bare;
}

bool mayKick(Role actor_role, Affiliation actor_affiliation, Affiliation target_affiliation) {
  if (actor_role != Role::Moderator) return false;
  if (target_affiliation >= Affiliation::Admin) return false;
  return target_affiliation <= actor_affiliation || target_affiliation <= Affiliation::None;
}

bool mayChangeRole(Role actor_role, Affiliation actor_affiliation, Role target_role,
                   Affiliation target_affiliation, Role new_role) {
  if (new_role == Role::None) return mayKick(actor_role, actor_affiliation, target_affiliation);
  if (target_affiliation >= Affiliation::Admin) return false;
  if (new_role == Role::Moderator || target_role == Role::Moderator) {
    return actor_affiliation >= Affiliation::Admin;
  }
  if (actor_role != Role::Moderator) return false;
  if (new_role >= target_role) return true;  // granting voice
  return target_affiliation <= Affiliation::None || target_affiliation < actor_affiliation;
}

bool mayChangeAffiliation(Affiliation actor, Affiliation target_now, Affiliation target_new) {
  if (actor == Affiliation::Owner) return true;
  if (actor != Affiliation::Admin) return false;
  return target_now < Affiliation::Admin && target_new < Affiliation::Admin;
}

bool mayInviteToMembersOnly(Affiliation inviter, bool members_may_invite) {
  if (inviter >= Affiliation::Admin) return true;
  return members_may_invite && inviter == Affiliation::Member;
}

std::vector<std::string> configChangeCodes(const PrivacySettings& before,
                                           const PrivacySettings& now) {
  std::vector<std::string> codes{"104"};
  if (now.logging != before.logging) codes.push_back(now.logging ? "170" : "171");
  if (now.non_anonymous != before.non_anonymous) codes.push_back(now.non_anonymous ? "172" : "173");
  return codes;
}

bool mayChangeSubject(Role role, bool occupants_may_change) {
  if (role == Role::Moderator) return true;
  return occupants_may_change && role == Role::Participant;
}

bool maySpeak(Role role) { return role >= Role::Participant; }

}  // namespace parley::xep::muc
