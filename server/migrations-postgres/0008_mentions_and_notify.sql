-- Mentions of everyone (`@channel`, `@here`) are recorded per person like
-- mentions by name, marked `everyone` so that an edit (which re-reads the
-- names) keeps them. Each membership may say how its conversation notifies
-- (NULL: the default for its kind).
ALTER TABLE mentions ADD COLUMN everyone BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE memberships ADD COLUMN notify TEXT
    CHECK (notify IS NULL OR notify IN ('all', 'mentions', 'none'));
