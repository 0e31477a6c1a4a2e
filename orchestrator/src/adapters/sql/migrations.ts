/** Versioned schema migrations, applied in order, each once, in its own transaction. */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'clients and ops log',
    sql: `
      CREATE TABLE clients (
        id text PRIMARY KEY,
        status text NOT NULL,
        provider text NOT NULL,
        admins jsonb NOT NULL DEFAULT '[]',
        config_yaml text NOT NULL,
        subnet text UNIQUE,
        onboarding_started_at timestamptz NOT NULL,
        operation_id text,
        operation_step text,
        operation_heartbeat_at timestamptz,
        status_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ops_log (
        seq bigint PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        client_id text,
        reason text,
        outcome text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        prev_hash text NOT NULL,
        hash text NOT NULL UNIQUE
      );
      CREATE INDEX ops_log_client ON ops_log (client_id, seq);
    `,
  },
  {
    version: 2,
    name: 'audit chain-head checkpoints',
    sql: `
      CREATE TABLE audit_checkpoints (
        client_id text PRIMARY KEY,
        seq bigint NOT NULL,
        hash text NOT NULL,
        at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'fleet identity',
    sql: `
      CREATE TABLE fleet_identity (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id text NOT NULL
      );
      INSERT INTO fleet_identity (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12));
    `,
  },
  {
    version: 4,
    name: 'client portal',
    sql: `
      CREATE TABLE portal_enrolments (
        token_hash text PRIMARY KEY,
        client_id text NOT NULL,
        admin_email text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      );
      CREATE INDEX portal_enrolments_admin ON portal_enrolments (client_id, admin_email);
      CREATE TABLE portal_credentials (
        id text PRIMARY KEY,
        client_id text NOT NULL,
        admin_email text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('passkey', 'totp')),
        lookup_hash text UNIQUE,
        sealed text NOT NULL,
        counter bigint NOT NULL DEFAULT 0,
        last_time_step bigint,
        confirmed boolean NOT NULL,
        enrolment_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz
      );
      CREATE INDEX portal_credentials_admin ON portal_credentials (client_id, admin_email);
      CREATE INDEX portal_credentials_email ON portal_credentials (admin_email, kind);
      CREATE TABLE portal_sessions (
        id_hash text PRIMARY KEY,
        stage text NOT NULL CHECK (stage IN ('anonymous', 'enrolling', 'active')),
        client_id text,
        admin_email text,
        enrolment_hash text,
        challenge_hash text,
        challenge_expires_at timestamptz,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX portal_sessions_admin ON portal_sessions (client_id, admin_email);
      CREATE TABLE portal_login_failures (
        subject text PRIMARY KEY,
        failures int NOT NULL,
        window_started_at timestamptz NOT NULL,
        locked_until timestamptz
      );
      CREATE TABLE portal_used_links (
        nonce_hash text PRIMARY KEY,
        client_id text NOT NULL,
        used_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'incidents',
    sql: `
      CREATE SEQUENCE incident_numbers;
      CREATE TABLE incidents (
        id text PRIMARY KEY,
        number bigint NOT NULL UNIQUE,
        severity text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
        summary text NOT NULL,
        clients jsonb NOT NULL DEFAULT '[]',
        status text NOT NULL CHECK (status IN ('open', 'contained', 'closed')),
        opened_at timestamptz NOT NULL,
        opened_by text NOT NULL,
        responded_at timestamptz,
        assessed_at timestamptz,
        confirmed_at timestamptz,
        confirmed_scope text,
        contained_at timestamptz,
        closed_at timestamptz,
        report_issued_at timestamptz,
        root_cause text,
        lessons text,
        remediation text,
        notifications jsonb NOT NULL DEFAULT '[]',
        containment jsonb NOT NULL DEFAULT '[]',
        evidence jsonb NOT NULL DEFAULT '[]',
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX incidents_status ON incidents (status, number);
    `,
  },
  {
    version: 6,
    name: 'team identities and onboarding checks',
    sql: `
      CREATE TABLE team_members (
        name text PRIMARY KEY,
        email text NOT NULL,
        status text NOT NULL CHECK (status IN ('enrolling', 'active')),
        totp_sealed text,
        last_time_step bigint,
        added_at timestamptz NOT NULL,
        added_by text NOT NULL,
        enrolled_at timestamptz,
        last_login_at timestamptz,
        failures int NOT NULL DEFAULT 0,
        failure_window_started_at timestamptz,
        locked_until timestamptz
      );
      CREATE TABLE team_enrolments (
        code_hash text PRIMARY KEY,
        member text NOT NULL REFERENCES team_members (name) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      );
      CREATE TABLE team_sessions (
        token_hash text PRIMARY KEY,
        member text NOT NULL REFERENCES team_members (name) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        second_factor_at timestamptz NOT NULL
      );
      CREATE INDEX team_sessions_member ON team_sessions (member);
      CREATE TABLE onboarding_checks (
        client_id text PRIMARY KEY,
        checked_at timestamptz NOT NULL,
        checked_by text NOT NULL,
        open_required int NOT NULL,
        open_total int NOT NULL,
        items jsonb NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'erasable ops-log fields',
    sql: `
      ALTER TABLE ops_log ADD COLUMN seals jsonb;
      ALTER TABLE ops_log ADD COLUMN erased_at timestamptz;
    `,
  },
  {
    version: 8,
    name: 'sealed ops-log fields',
    // An entry's actor, reason and details are sealed together into sealed_fields; entries written before
    // keep them in their columns until the start-up sealing moves them (then the columns are null).
    sql: `
      ALTER TABLE ops_log ADD COLUMN sealed_fields text;
      ALTER TABLE ops_log ALTER COLUMN actor DROP NOT NULL;
      ALTER TABLE ops_log ALTER COLUMN details DROP NOT NULL;
      ALTER TABLE ops_log ALTER COLUMN details DROP DEFAULT;
      ALTER TABLE ops_log ADD CONSTRAINT ops_log_fields_in_one_place
        CHECK (CASE WHEN sealed_fields IS NULL THEN actor IS NOT NULL AND details IS NOT NULL
                    ELSE actor IS NULL AND reason IS NULL AND details IS NULL END);
    `,
  },
  {
    version: 9,
    name: 'team sign-in failures per channel',
    // Wrong codes count per member and channel (the owner-only socket, TCP), so that guessing over TCP
    // never refuses the socket. The counts so far move to TCP (where guessing can come from).
    sql: `
      CREATE TABLE team_login_failures (
        member text NOT NULL REFERENCES team_members (name) ON DELETE CASCADE,
        channel text NOT NULL CHECK (channel IN ('socket', 'tcp')),
        failures int NOT NULL,
        window_started_at timestamptz NOT NULL,
        locked_until timestamptz,
        PRIMARY KEY (member, channel)
      );
      INSERT INTO team_login_failures (member, channel, failures, window_started_at, locked_until)
        SELECT name, 'tcp', failures, failure_window_started_at, locked_until FROM team_members
         WHERE failure_window_started_at IS NOT NULL;
      ALTER TABLE team_members DROP COLUMN failures, DROP COLUMN failure_window_started_at, DROP COLUMN locked_until;
    `,
  },
  {
    version: 10,
    name: 'incident containment override',
    // Why an incident was closed although its containment never held (sealed JSON, as its containment steps).
    sql: `
      ALTER TABLE incidents ADD COLUMN containment_override jsonb;
    `,
  },
];
