-- An optional password (argon2id PHC string) lets a user sign in from another browser.
ALTER TABLE users ADD COLUMN password_hash TEXT;
