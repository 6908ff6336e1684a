// XEP-0114: one connection per component domain; the first keeps it, a closing connection only
// ever removes itself.
#include <catch2/catch.hpp>
#include <memory>

#include "router/component_links.hpp"

namespace {

class TestLink final : public parley::router::ClientSession {
 public:
  void deliver(std::shared_ptr<const parley::xml::Element>) override {}
  void deliverBacklog(std::vector<std::shared_ptr<const parley::xml::Element>>) override {}
  void kick(std::string, std::string) override {}
};

}  // namespace

TEST_CASE("component links: one connection per domain", "[router][component]") {
  parley::router::ComponentLinks links;
  auto first = std::make_shared<TestLink>();
  auto second = std::make_shared<TestLink>();
  CHECK(links.find("echo.example.org") == nullptr);

  REQUIRE(links.attach("echo.example.org", first));
  CHECK(links.find("echo.example.org") == first);

  SECTION("a second connection for the same domain is refused; the first keeps it") {
    CHECK_FALSE(links.attach("echo.example.org", second));
    CHECK(links.find("echo.example.org") == first);
    // The refused one closing must not take the domain from the first.
    links.detach("echo.example.org", second.get());
    CHECK(links.find("echo.example.org") == first);
  }
  SECTION("once the first detaches, the domain is free again") {
    links.detach("echo.example.org", first.get());
    CHECK(links.find("echo.example.org") == nullptr);
    CHECK(links.attach("echo.example.org", second));
  }
  SECTION("domains lists the connected ones in order") {
    REQUIRE(links.attach("aim.example.org", second));
    CHECK(links.domains() == std::vector<std::string>{"aim.example.org", "echo.example.org"});
    CHECK(links.all().size() == 2);
    CHECK(links.find("irc.example.org") == nullptr);
  }
}
