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
];
