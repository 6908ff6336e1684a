-- 009: XEP-0049 private XML storage (jabber:iq:private): what older clients (Pidgin, Psi+,
-- XEP-0048 bookmarks) keep on the server, one fragment per account and root element.
-- (007 and 008 are taken by the MAM and MUC migrations developed alongside.)

CREATE TABLE private_storage (
  owner   text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,  -- bare JID
  ns      text NOT NULL,  -- the fragment's root namespace …
  name    text NOT NULL,  -- … and element name: XEP-0049 keys by namespace, clients use one name each
  payload text NOT NULL,  -- the fragment, serialized
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, ns, name)
);
