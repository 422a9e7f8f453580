-- traefik-sync schema, version 5: private keys live in certificates.key_pem (and the 0600 key file
-- the controller writes from it), nowhere else.
--
-- 1. traefik_configs kept every generated file's text, key files included, readable by any role
--    that may read that table. It keeps a key file's checksum now (drift and in-sync checks
--    compare checksums), and the text of no file holding a private key.
-- 2. A private key pasted into cert_pem was accepted, landed in a 0644 .crt file, the audit log
--    and traefik_configs. It is refused now; rows that hold one lose the key block here (the
--    controller then rewrites the .crt without it), and so do their audit entries.

-- Any PEM private key armour: PKCS#8, RSA/EC/DSA (PKCS#1, SEC1), ENCRYPTED, OPENSSH, PGP, any case.
CREATE FUNCTION traefik_sync_has_private_key(v text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v ~* '-----BEGIN [A-Z0-9 ]*PRIVATE KEY'
  $$;

-- v without its private key blocks (each up to its END line, or to the end of the text).
CREATE FUNCTION traefik_sync_strip_private_keys(v text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN traefik_sync_has_private_key(v) THEN
      rtrim(regexp_replace(v, '-----BEGIN [A-Z0-9 ]*?PRIVATE KEY.*?(-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|$)', '', 'gi'), E' \t\r\n') || E'\n'
    ELSE v END
  $$;

UPDATE traefik_configs SET content = ''
 WHERE config_type = 'key' OR traefik_sync_has_private_key(content);

SELECT set_config('traefik_sync.actor', 'migration 005 (private key removed from cert_pem)', true);
UPDATE certificates SET cert_pem = traefik_sync_strip_private_keys(cert_pem)
 WHERE traefik_sync_has_private_key(cert_pem);

UPDATE audit_log
   SET old_row = CASE WHEN traefik_sync_has_private_key(old_row->>'cert_pem')
                      THEN jsonb_set(old_row, '{cert_pem}', to_jsonb(traefik_sync_strip_private_keys(old_row->>'cert_pem')))
                      ELSE old_row END,
       new_row = CASE WHEN traefik_sync_has_private_key(new_row->>'cert_pem')
                      THEN jsonb_set(new_row, '{cert_pem}', to_jsonb(traefik_sync_strip_private_keys(new_row->>'cert_pem')))
                      ELSE new_row END
 WHERE table_name = 'certificates'
   AND (traefik_sync_has_private_key(old_row->>'cert_pem') OR traefik_sync_has_private_key(new_row->>'cert_pem'));

ALTER TABLE certificates
  ADD CONSTRAINT certificates_cert_pem_no_private_key CHECK (NOT traefik_sync_has_private_key(cert_pem));
ALTER TABLE traefik_configs
  ADD CONSTRAINT traefik_configs_no_private_key CHECK (NOT traefik_sync_has_private_key(content));
