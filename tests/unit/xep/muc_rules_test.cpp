// XEP-0045 rules as pure functions: who enters a room, who may kick, ban or grant membership,
// and when a nick is taken.
#include <catch2/catch.hpp>

#include "xep/muc_rules.hpp"

using namespace parley::xep::muc;

TEST_CASE("names of roles and affiliations round-trip") {
  for (auto a : {Affiliation::Outcast, Affiliation::None, Affiliation::Member, Affiliation::Admin,
                 Affiliation::Owner}) {
    CHECK(parseAffiliation(affiliationName(a)) == a);
  }
  for (auto r : {Role::None, Role::Visitor, Role::Participant, Role::Moderator}) {
    CHECK(parseRole(roleName(r)) == r);
  }
  CHECK_FALSE(parseAffiliation("king"));
  CHECK_FALSE(parseRole("owner"));
}

TEST_CASE("owners and admins moderate, the unaffiliated only listen in a moderated room") {
  CHECK(defaultRole(Affiliation::Owner, false) == Role::Moderator);
  CHECK(defaultRole(Affiliation::Admin, true) == Role::Moderator);
  CHECK(defaultRole(Affiliation::Member, true) == Role::Participant);
  CHECK(defaultRole(Affiliation::None, false) == Role::Participant);
  CHECK(defaultRole(Affiliation::None, true) == Role::Visitor);
  CHECK_FALSE(maySpeak(Role::Visitor));
  CHECK(maySpeak(Role::Participant));
}

TEST_CASE("who a room admits") {
  JoinRequest r;
  SECTION("an open room admits anyone") { CHECK(checkJoin(r) == JoinRefusal::None); }
  SECTION("the banned are forbidden") {
    r.affiliation = Affiliation::Outcast;
    CHECK(checkJoin(r) == JoinRefusal::Banned);
    CHECK(refusalCondition(JoinRefusal::Banned) == "forbidden");
  }
  SECTION("a members-only room wants registration, members enter") {
    r.members_only = true;
    CHECK(checkJoin(r) == JoinRefusal::MembersOnly);
    CHECK(refusalCondition(checkJoin(r)) == "registration-required");
    r.affiliation = Affiliation::Member;
    CHECK(checkJoin(r) == JoinRefusal::None);
    r.affiliation = Affiliation::Admin;
    CHECK(checkJoin(r) == JoinRefusal::None);
  }
  SECTION("a password-protected room wants the password") {
    r.password_protected = true;
    CHECK(checkJoin(r) == JoinRefusal::BadPassword);
    CHECK(refusalCondition(checkJoin(r)) == "not-authorized");
    r.password_matches = true;
    CHECK(checkJoin(r) == JoinRefusal::None);
  }
  SECTION("a full room refuses all but admins and owners") {
    r.max_users = 2;
    r.occupants = 2;
    CHECK(checkJoin(r) == JoinRefusal::Full);
    CHECK(refusalCondition(checkJoin(r)) == "service-unavailable");
    r.affiliation = Affiliation::Owner;
    CHECK(checkJoin(r) == JoinRefusal::None);
  }
  SECTION("a nick in use is a conflict") {
    r.nick_taken = true;
    CHECK(refusalCondition(checkJoin(r)) == "conflict");
  }
}

TEST_CASE("a nick is taken only by another user") {
  CHECK(nickTaken("bob@localhost", "alice@localhost"));
  CHECK_FALSE(nickTaken("alice@localhost", "alice@localhost"));
  CHECK_FALSE(nickTaken("", "alice@localhost"));
}

TEST_CASE("who may kick whom") {
  CHECK(mayKick(Role::Moderator, Affiliation::Owner, Affiliation::None));
  CHECK(mayKick(Role::Moderator, Affiliation::Owner, Affiliation::Member));
  CHECK_FALSE(mayKick(Role::Participant, Affiliation::Member, Affiliation::None));
  CHECK_FALSE(mayKick(Role::Moderator, Affiliation::Admin, Affiliation::Owner));
  CHECK_FALSE(mayKick(Role::Moderator, Affiliation::Owner, Affiliation::Admin));
  CHECK_FALSE(mayKick(Role::Moderator, Affiliation::None, Affiliation::Member));
}

TEST_CASE("who may ban and grant membership") {
  CHECK(mayChangeAffiliation(Affiliation::Owner, Affiliation::None, Affiliation::Outcast));
  CHECK(mayChangeAffiliation(Affiliation::Owner, Affiliation::Admin, Affiliation::None));
  CHECK(mayChangeAffiliation(Affiliation::Admin, Affiliation::None, Affiliation::Member));
  CHECK(mayChangeAffiliation(Affiliation::Admin, Affiliation::Member, Affiliation::Outcast));
  CHECK_FALSE(mayChangeAffiliation(Affiliation::Admin, Affiliation::Owner, Affiliation::Outcast));
  CHECK_FALSE(mayChangeAffiliation(Affiliation::Admin, Affiliation::None, Affiliation::Admin));
  CHECK_FALSE(mayChangeAffiliation(Affiliation::Member, Affiliation::None, Affiliation::Member));
  CHECK_FALSE(mayChangeAffiliation(Affiliation::None, Affiliation::None, Affiliation::Outcast));
}

TEST_CASE("who may change the subject") {
  CHECK(mayChangeSubject(Role::Moderator, false));
  CHECK_FALSE(mayChangeSubject(Role::Participant, false));
  CHECK(mayChangeSubject(Role::Participant, true));
  CHECK_FALSE(mayChangeSubject(Role::Visitor, true));
}

TEST_CASE("who may grant and revoke voice (§8.5-§8.6)") {
  // A moderator gives a visitor voice and takes it back.
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Visitor, Affiliation::None,
                      Role::Participant));
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Admin, Role::Participant, Affiliation::None,
                      Role::Visitor));
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Participant, Affiliation::Member,
                      Role::Visitor));
  // A participant does neither.
  CHECK_FALSE(mayChangeRole(Role::Participant, Affiliation::Member, Role::Visitor,
                            Affiliation::None, Role::Participant));
  CHECK_FALSE(mayChangeRole(Role::Participant, Affiliation::Member, Role::Participant,
                            Affiliation::None, Role::Visitor));
  // Nobody silences an admin or owner.
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Moderator,
                            Affiliation::Admin, Role::Visitor));
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Admin, Role::Moderator,
                            Affiliation::Owner, Role::Participant));
  // A moderator without affiliation silences no member; a member moderator no other member.
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::None, Role::Participant,
                            Affiliation::Member, Role::Visitor));
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Member, Role::Participant,
                            Affiliation::Member, Role::Visitor));
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Member, Role::Participant, Affiliation::None,
                      Role::Visitor));
}

TEST_CASE("who may grant and revoke moderator status (§9.6-§9.7)") {
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Participant, Affiliation::None,
                      Role::Moderator));
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Admin, Role::Visitor, Affiliation::Member,
                      Role::Moderator));
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Admin, Role::Moderator, Affiliation::None,
                      Role::Participant));
  // A moderator who is not an admin neither grants nor revokes it.
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Member, Role::Participant,
                            Affiliation::None, Role::Moderator));
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::None, Role::Moderator, Affiliation::None,
                            Role::Participant));
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Member, Role::Moderator,
                            Affiliation::None, Role::Visitor));
  // An owner's or admin's moderator status is not taken away.
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Moderator,
                            Affiliation::Admin, Role::Participant));
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Moderator,
                            Affiliation::Owner, Role::Participant));
}

TEST_CASE("kicking through a role change follows the kick rules") {
  CHECK(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Participant, Affiliation::None,
                      Role::None));
  CHECK_FALSE(mayChangeRole(Role::Participant, Affiliation::Member, Role::Participant,
                            Affiliation::None, Role::None));
  CHECK_FALSE(mayChangeRole(Role::Moderator, Affiliation::Owner, Role::Moderator,
                            Affiliation::Admin, Role::None));
}

TEST_CASE("a configuration change tells occupants what it did to their privacy (§10.2.1)") {
  using Codes = std::vector<std::string>;
  const PrivacySettings quiet{false, false}, logged{true, false}, open{false, true};
  CHECK(configChangeCodes(quiet, quiet) == Codes{"104"});
  CHECK(configChangeCodes(quiet, logged) == Codes{"104", "170"});
  CHECK(configChangeCodes(logged, quiet) == Codes{"104", "171"});
  CHECK(configChangeCodes(quiet, open) == Codes{"104", "172"});
  CHECK(configChangeCodes(open, quiet) == Codes{"104", "173"});
  CHECK(configChangeCodes(logged, open) == Codes{"104", "171", "172"});
}

TEST_CASE("who may invite to a members-only room (§7.8.2)") {
  CHECK(mayInviteToMembersOnly(Affiliation::Owner, false));
  CHECK(mayInviteToMembersOnly(Affiliation::Admin, false));
  CHECK_FALSE(mayInviteToMembersOnly(Affiliation::Member, false));
  CHECK(mayInviteToMembersOnly(Affiliation::Member, true));
  CHECK_FALSE(mayInviteToMembersOnly(Affiliation::None, true));
  CHECK_FALSE(mayInviteToMembersOnly(Affiliation::Outcast, true));
}
