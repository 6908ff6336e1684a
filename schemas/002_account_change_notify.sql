-- parleyd keeps what SCRAM needs for recent logins in memory (one database round trip less per
-- login). Every change to an account or its credentials, by parleyctl, parleyd or plain SQL,
-- tells it to forget that account: channel parley_account_changed, payload the bare JID, or
-- '*' for everything (TRUNCATE). Notifications are sent at commit, so the cache never sees a
-- change that is rolled back.

CREATE FUNCTION parley_notify_account_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('parley_account_changed', '*');
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('parley_account_changed', OLD.jid);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM pg_notify('parley_account_changed', NEW.jid);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER accounts_notify_change
  AFTER UPDATE OR DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION parley_notify_account_changed();
CREATE TRIGGER accounts_notify_truncate
  AFTER TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION parley_notify_account_changed();
CREATE TRIGGER account_credentials_notify_change
  AFTER INSERT OR UPDATE OR DELETE ON account_credentials
  FOR EACH ROW EXECUTE FUNCTION parley_notify_account_changed();
CREATE TRIGGER account_credentials_notify_truncate
  AFTER TRUNCATE ON account_credentials
  FOR EACH STATEMENT EXECUTE FUNCTION parley_notify_account_changed();
