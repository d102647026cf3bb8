// The store's schema, as an ordered list of migrations applied once each and recorded in
// vigil_migrations. The same SQL runs on PostgreSQL and PGlite. Append new migrations at the end;
// never edit one that has shipped.
import type { Logger } from '../../common/log.ts';
import type { SqlClient } from './sql-client.ts';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'sessions and events',
    sql: `
      CREATE TABLE sessions (
        id text PRIMARY KEY,
        protocol text NOT NULL,
        user_name text NOT NULL,
        target text NOT NULL,
        client_addr text NOT NULL,
        agent_id text NOT NULL,
        -- session.start's time once that event is stored; until then the earliest event time
        -- seen, so a session whose start is re-delivered late still sorts and pages.
        started_at timestamptz NOT NULL,
        start_seen boolean NOT NULL DEFAULT false,
        ended_at timestamptz,
        end_reason text,
        last_seq bigint NOT NULL DEFAULT 0,
        -- Every seq in 1..persisted_seq is stored: what a bus may trim below, a viewer may trust.
        persisted_seq bigint NOT NULL DEFAULT 0,
        event_count bigint NOT NULL DEFAULT 0,
        query_count bigint NOT NULL DEFAULT 0,
        error_count bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sessions_started_idx ON sessions (started_at DESC, id DESC);
      CREATE INDEX sessions_user_started_idx ON sessions (user_name, started_at DESC, id DESC);
      CREATE INDEX sessions_target_started_idx ON sessions (target, started_at DESC, id DESC);
      CREATE INDEX sessions_live_started_idx ON sessions (started_at DESC, id DESC) WHERE ended_at IS NULL;

      -- body is text, not jsonb: it keeps the canonical bytes exactly as received, which a later
      -- per-session hash chain signs. Other columns are copies for filtering and ordering.
      CREATE TABLE events (
        session_id text NOT NULL,
        seq bigint NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        time timestamptz NOT NULL,
        body text NOT NULL,
        PRIMARY KEY (session_id, seq)
      );
    `,
  },
  {
    id: 2,
    name: 'ssh keys',
    sql: `
      -- Public keys people registered to log in through the agents' SSH port. A key is one
      -- person's: its fingerprint (SHA256 of the key blob) is unique across everyone.
      CREATE TABLE ssh_keys (
        fingerprint text PRIMARY KEY,
        user_name text NOT NULL,
        public_key text NOT NULL,
        name text NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX ssh_keys_user_idx ON ssh_keys (user_name, added_at);
    `,
  },
  {
    id: 3,
    name: 'access requests and audit log',
    sql: `
      -- Just-in-time access: a request for a target (scope connect) or for one held statement
      -- (scope statement). A granted connect request is the grant: its id is the grant's number.
      CREATE TABLE access_requests (
        id bigserial PRIMARY KEY,
        scope text NOT NULL,
        user_name text NOT NULL,
        target text NOT NULL,
        reason text NOT NULL DEFAULT '',
        duration_ms bigint,
        -- pending, granted, denied, expired, revoked
        status text NOT NULL,
        min_approvals integer NOT NULL,
        origin text NOT NULL,
        client text,
        session_id text,
        statement text,
        rule text,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- A pending request expires by itself then.
        pending_until timestamptz NOT NULL,
        decided_at timestamptz,
        -- The grant's end (connect scope).
        expires_at timestamptz,
        -- Who ended it (the denier, the revoker) and why.
        ended_by text,
        end_reason text
      );
      CREATE INDEX access_requests_status_idx ON access_requests (status, id DESC);
      CREATE INDEX access_requests_user_idx ON access_requests (user_name, id DESC);
      -- One open connect request per person and target: asking again finds the open one.
      CREATE UNIQUE INDEX access_requests_one_pending_idx ON access_requests (user_name, target) WHERE status = 'pending' AND scope = 'connect';

      CREATE TABLE access_decisions (
        request_id bigint NOT NULL REFERENCES access_requests (id),
        approver text NOT NULL,
        decision text NOT NULL,
        comment text NOT NULL DEFAULT '',
        decided_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, approver)
      );

      -- Append-only: who did what, when, from where. Nothing updates or deletes rows here.
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        target text,
        request_id bigint,
        session_id text,
        origin text,
        detail text NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_request_idx ON audit_log (request_id) WHERE request_id IS NOT NULL;
    `,
  },
  {
    id: 4,
    name: 'sessions ended by a hub, agents seen',
    sql: `
      -- 'hub' when a hub wrote the session's end because its agent could not (lost, restarted):
      -- such an end gives way to events the agent delivers later (sql-recording-store.ts).
      ALTER TABLE sessions ADD COLUMN ended_by text;
      CREATE INDEX sessions_live_agent_idx ON sessions (agent_id) WHERE ended_at IS NULL;

      -- Agents that have held a lease (hubs note them as they see their leases): a session of a
      -- known agent whose lease is gone was lost; one of an agent never seen is left alone.
      CREATE TABLE agents (
        id text PRIMARY KEY,
        instance text NOT NULL,
        started_at timestamptz NOT NULL,
        first_seen timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 5,
    name: 'events stored in segments',
    sql: `
      -- A segment is a run of consecutive events of one session, stored as one row: the events'
      -- canonical bytes joined by newlines (canonical JSON holds none). A batch's new events are
      -- raw runs; once a session's runs add up to enough bytes or time, or it ends, they are
      -- sealed: merged into one row, which the database compresses (lz4 where it has it).
      -- Runs never overlap: the (session, seq) an event is stored under is in exactly one segment.
      CREATE TABLE segments (
        session_id text NOT NULL,
        first_seq bigint NOT NULL,
        last_seq bigint NOT NULL,
        first_time timestamptz NOT NULL,
        last_time timestamptz NOT NULL,
        event_count integer NOT NULL,
        -- Bytes of the joined canonical bodies (UTF-8), before compression.
        raw_bytes integer NOT NULL,
        sealed boolean NOT NULL DEFAULT false,
        body text NOT NULL,
        PRIMARY KEY (session_id, last_seq),
        CHECK (first_seq >= 1 AND event_count = last_seq - first_seq + 1)
      );
      -- Seeking by time: the first segment whose last event is at or after a moment.
      CREATE INDEX segments_time_idx ON segments (session_id, last_time);
      -- lz4 compresses these about as well as pglz at several times the speed; a server built
      -- without it (PGlite) keeps its default, pglz.
      DO $$ BEGIN
        ALTER TABLE segments ALTER COLUMN body SET COMPRESSION lz4;
      EXCEPTION WHEN OTHERS THEN NULL;
      END $$;

      -- Every seq in 1..sealed_seq is in sealed segments; above it, raw runs, of these many bytes
      -- and times (what tells an append that sealing may be due without a look at the runs).
      ALTER TABLE sessions ADD COLUMN sealed_seq bigint NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN unsealed_bytes bigint NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN unsealed_from timestamptz;
      ALTER TABLE sessions ADD COLUMN unsealed_until timestamptz;

      -- The events stored one row each until now move over as runs of up to 1000 events (split
      -- at gaps), sealed by the store as their sessions go on, or when they end.
      INSERT INTO segments (session_id, first_seq, last_seq, first_time, last_time, event_count, raw_bytes, body)
      SELECT session_id, min(seq), max(seq), min(time), max(time), count(*),
             octet_length(string_agg(body, E'\\n' ORDER BY seq)), string_agg(body, E'\\n' ORDER BY seq)
      FROM (SELECT session_id, seq, time, body, seq - row_number() OVER (PARTITION BY session_id ORDER BY seq) AS run
            FROM events) e
      GROUP BY session_id, run, (seq - 1) / 1000;
      UPDATE sessions s SET unsealed_bytes = g.bytes, unsealed_from = g.since, unsealed_until = g.until
      FROM (SELECT session_id, sum(raw_bytes) AS bytes, min(first_time) AS since, max(last_time) AS until
            FROM segments GROUP BY session_id) g
      WHERE g.session_id = s.id;
      DROP TABLE events;
    `,
  },
  {
    id: 6,
    name: 'recording index: keyframes, markers',
    sql: `
      -- What the hubs' indexers derived from each session's persisted events so far, and which hub
      -- is at it (a lease, so two hubs do not index one session twice over).
      ALTER TABLE sessions ADD COLUMN indexed_seq bigint NOT NULL DEFAULT 0;
      ALTER TABLE sessions ADD COLUMN indexer text;
      ALTER TABLE sessions ADD COLUMN indexer_until timestamptz;
      CREATE INDEX sessions_unindexed_idx ON sessions (updated_at) WHERE indexed_seq < persisted_seq;

      -- A terminal's state after seq (server/recordings/terminal/keyframer.ts): escape sequences
      -- that put a fresh terminal of cols x rows (created alt_rows high, prelude written, then
      -- resized) in that state; a seek replays the keyframe at or before the moment and the events
      -- after it. hidden: what a keyframer restarted from it needs and no sequence carries.
      CREATE TABLE keyframes (
        session_id text NOT NULL,
        seq bigint NOT NULL,
        time timestamptz NOT NULL,
        channel integer NOT NULL,
        cols integer NOT NULL,
        rows integer NOT NULL,
        alt_rows integer NOT NULL,
        scrollback integer NOT NULL,
        output_bytes bigint NOT NULL,
        prelude text NOT NULL,
        screen text NOT NULL,
        approximate text,
        hidden text,
        PRIMARY KEY (session_id, seq)
      );

      -- The moments a player's timeline marks: commands, queries that failed or took long, file
      -- transfers, access decisions, guardrails, the end. Text is masked as recorded.
      CREATE TABLE markers (
        session_id text NOT NULL,
        seq bigint NOT NULL,
        kind text NOT NULL,
        time timestamptz NOT NULL,
        label text NOT NULL,
        duration_ms double precision,
        PRIMARY KEY (session_id, seq, kind)
      );
    `,
  },
  {
    id: 7,
    name: 'shares and annotations',
    sql: `
      -- A recording shared with named people or a group of the identity provider, until it
      -- expires or is revoked. Seeing a session through a share is audited.
      CREATE TABLE shares (
        id bigserial PRIMARY KEY,
        session_id text NOT NULL,
        created_by text NOT NULL,
        users text[] NOT NULL DEFAULT '{}',
        group_name text,
        note text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_by text
      );
      CREATE INDEX shares_session_idx ON shares (session_id, id DESC);
      CREATE INDEX shares_users_idx ON shares USING gin (users);

      -- Notes pinned to a moment of a recording (and to a statement, by its seq). Text, kept
      -- with the recording.
      CREATE TABLE annotations (
        id bigserial PRIMARY KEY,
        session_id text NOT NULL,
        seq bigint NOT NULL,
        author text NOT NULL,
        text text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX annotations_session_idx ON annotations (session_id, seq, id);
    `,
  },
  {
    id: 8,
    name: 'recording search and the statement index',
    sql: `
    CREATE EXTENSION IF NOT EXISTS pg_trgm;

    -- What a recording offers to search (server/recordings/search/search-documents.ts): the event
    -- a text begins at, its kind, its place among texts of that kind begun there, and the text,
    -- masked as recorded. words: for whole-word search and ranking; the trigram index: for
    -- substrings ('pay' in 'payments') and words too short for trigrams.
    CREATE TABLE search_docs (
      session_id text NOT NULL,
      seq bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('query', 'command', 'input', 'output')),
      part integer NOT NULL,
      time timestamptz NOT NULL,
      text text NOT NULL,
      words tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED,
      PRIMARY KEY (session_id, seq, kind, part)
    );
    CREATE INDEX search_docs_words_idx ON search_docs USING gin (words);
    CREATE INDEX search_docs_text_trgm_idx ON search_docs USING gin (text gin_trgm_ops);

    -- The PostgreSQL statement index: each db.query with what answered it (statement-pairing.ts).
    CREATE TABLE statements (
      session_id text NOT NULL,
      seq bigint NOT NULL,
      end_seq bigint,
      time timestamptz NOT NULL,
      protocol text NOT NULL,
      sql text NOT NULL,
      row_count bigint,
      error_code text,
      error_message text,
      duration_ms double precision,
      tag text,
      PRIMARY KEY (session_id, seq)
    );

    -- Where each session's extraction stands (SearchExtractor.snapshot() as JSON), so a hub that
    -- takes a live session over goes on exactly where the last one stopped.
    CREATE TABLE search_progress (
      session_id text PRIMARY KEY,
      next_seq bigint NOT NULL,
      state text NOT NULL
    );
    `,
  },
  {
    id: 9,
    name: 'locks',
    sql: `
      -- Locks (common/locks.ts): a user, a user on a target, a target or a connection token kept
      -- out until the lock expires or is lifted. Kept after that, for the record.
      CREATE TABLE locks (
        id text PRIMARY KEY,
        user_name text,
        target text,
        token text,
        created_by text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        lifted_at timestamptz,
        lifted_by text,
        CHECK (user_name IS NOT NULL OR target IS NOT NULL OR token IS NOT NULL)
      );
      CREATE INDEX locks_unlifted_idx ON locks (created_at) WHERE lifted_at IS NULL;
    `,
  },
  {
    id: 10,
    name: 'signed recording manifests',
    sql: `
      -- The public halves of the keys hubs sign manifests with (server/recordings/trust/): each
      -- hub's current key, and retired ones, which keep verifying what they signed while in use.
      -- The private halves never come here: each stays in its hub's data directory.
      CREATE TABLE recording_keys (
        id text PRIMARY KEY,
        public_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      );

      -- A session's signed manifest (manifest.ts): written when it has ended and all of it is
      -- stored, written again if more of it arrives (a hub's end giving way to the agent's events).
      CREATE TABLE recording_manifests (
        session_id text PRIMARY KEY,
        last_seq bigint NOT NULL,
        key_id text NOT NULL,
        manifest text NOT NULL,
        signature text NOT NULL,
        sealed_at timestamptz NOT NULL DEFAULT now()
      );

      -- The last seq a manifest covered: what the sealer still has to do, without a join; and a
      -- manifest that is gone while this says one was written is reported, not quietly redone.
      ALTER TABLE sessions ADD COLUMN manifest_seq bigint NOT NULL DEFAULT 0;
      CREATE INDEX sessions_unsealed_idx ON sessions (ended_at) WHERE ended_at IS NOT NULL AND manifest_seq < last_seq;
    `,
  },
  {
    id: 11,
    name: 'who saw what',
    sql: `
      -- Every opening of a recording is an audit entry (server/access/view-audit.ts): read by
      -- session (who viewed it) and by person (what they viewed).
      CREATE INDEX audit_log_session_idx ON audit_log (session_id, id DESC) WHERE session_id IS NOT NULL;
      CREATE INDEX audit_log_actor_idx ON audit_log (actor, id DESC);
    `,
  },
  {
    id: 12,
    name: 'retention: purges, tombstones, legal holds',
    sql: `
      -- A purged recording keeps its summary row (who, where, when, counts) and its manifest; its
      -- events, segments and everything derived from them are gone (server/recordings/retention/).
      ALTER TABLE sessions ADD COLUMN purged_at timestamptz;
      CREATE INDEX sessions_purgeable_idx ON sessions (target, ended_at) WHERE ended_at IS NOT NULL AND purged_at IS NULL;

      -- What a purge leaves: signed like a manifest, naming the manifest it ended.
      CREATE TABLE recording_tombstones (
        session_id text PRIMARY KEY,
        key_id text NOT NULL,
        tombstone text NOT NULL,
        signature text NOT NULL,
        purged_at timestamptz NOT NULL DEFAULT now()
      );

      -- Legal holds: a session, or every session of a user or a target, kept whatever the
      -- retention says until the hold is released. Kept after that, for the record.
      CREATE TABLE legal_holds (
        id text PRIMARY KEY,
        session_id text,
        user_name text,
        target text,
        reason text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        released_by text,
        CHECK (session_id IS NOT NULL OR user_name IS NOT NULL OR target IS NOT NULL)
      );
      CREATE INDEX legal_holds_active_idx ON legal_holds (created_at) WHERE released_at IS NULL;
    `,
  },
  {
    id: 13,
    name: 'agent identities',
    sql: `
      -- Each agent's Ed25519 public key (common/agent-identity.ts): pending until an admin approves
      -- it or it came with an enrollment token, then enrolled until revoked. The hub persists only
      -- batches an enrolled agent signed.
      CREATE TABLE agent_identities (
        id text PRIMARY KEY,
        public_key text NOT NULL,
        fingerprint text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'enrolled', 'revoked')),
        requested_at timestamptz NOT NULL DEFAULT now(),
        requested_from text,
        enrolled_at timestamptz,
        enrolled_by text,
        revoked_at timestamptz,
        revoked_by text,
        revoke_reason text
      );

      -- One-time enrollment tokens an admin hands to whoever installs an agent; kept hashed.
      CREATE TABLE agent_enrollment_tokens (
        token_hash text PRIMARY KEY,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        used_by text
      );
    `,
  },
  {
    id: 14,
    name: 'audit checkpoints',
    sql: `
      -- When a row was written (at is when what it records happened, which an agent may report
      -- late): checkpoints take only rows that settled a while ago.
      ALTER TABLE audit_log ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();

      -- Signed checkpoints of the audit log (server/audit/audit-checkpoints.ts): each covers the
      -- rows after the one before it, lists each row's hash, and chains to the previous
      -- checkpoint's hash; a deleted or edited row no longer matches.
      CREATE TABLE audit_checkpoints (
        id bigserial PRIMARY KEY,
        from_id bigint NOT NULL,
        to_id bigint NOT NULL,
        row_hashes text NOT NULL,
        prev_hash text,
        hash text NOT NULL,
        key_id text NOT NULL,
        signature text NOT NULL,
        made_at text NOT NULL,
        UNIQUE (from_id)
      );
    `,
  },
  {
    id: 15,
    name: 'session end messages',
    sql: `
      -- The end's own words beside its reason (session.end's message): who killed, revoked or
      -- locked it and why ("this session was ended by rita: INC-7"), for the sessions list.
      -- No trigram index for finding sessions by part of a name: the summary row is rewritten on
      -- every append, and the listing walks sessions_started_idx newest first up to its page.
      ALTER TABLE sessions ADD COLUMN end_message text;
    `,
  },
];

// Any constant works; it only has to be the same in every hub sharing a database.
const MIGRATION_LOCK_KEY = 0x76_69_67_69_6c; // "vigil"

const CREATE_LEDGER = `
  CREATE TABLE IF NOT EXISTS vigil_migrations (
    id integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/**
 * Applies pending migrations in order, each in its own transaction. Every transaction first takes
 * a transaction-scoped advisory lock, so hubs starting together on one PostgreSQL apply each
 * migration once and the others wait, then see it recorded. Returns the ids applied now.
 */
export async function migrate(
  client: SqlClient,
  opts: { logger?: Logger; migrations?: readonly Migration[] } = {},
): Promise<number[]> {
  const migrations = opts.migrations ?? MIGRATIONS;
  const done = await client.transaction(async (tx) => {
    await lock(tx);
    return appliedIds(tx);
  });
  const known = new Set(migrations.map((m) => m.id));
  const unknown = [...done].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    opts.logger?.warn({ unknown }, 'the store has migrations this version does not know (a newer hub ran here)');
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.id)) continue;
    const ran = await client.transaction(async (tx) => {
      await lock(tx);
      if ((await appliedIds(tx)).has(migration.id)) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO vigil_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
      return true;
    });
    if (ran) {
      applied.push(migration.id);
      opts.logger?.info({ id: migration.id, name: migration.name }, 'store migration applied');
    }
  }
  return applied;
}

async function lock(tx: SqlClient): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  // Created under the lock: CREATE TABLE IF NOT EXISTS alone races between concurrent starts.
  await tx.exec(CREATE_LEDGER);
}

async function appliedIds(tx: SqlClient): Promise<Set<number>> {
  const { rows } = await tx.query<{ id: number }>('SELECT id FROM vigil_migrations');
  return new Set(rows.map((r) => r.id));
}
