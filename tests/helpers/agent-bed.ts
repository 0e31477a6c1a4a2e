import { after, before } from 'node:test';
import { AnthropicEmulator } from '../emulators/anthropic-emulator.ts';
import {
  inboxScript,
  removeDir,
  startAgent,
  startMailbox,
  startVault,
  type AgentOptions,
  type AgentUnderTest,
  type MailboxUnderTest,
  type ProviderKind,
  type VaultFixture,
} from '../integration/agent/agent-harness.ts';

/** What a suite of in-process agent tests shares: an embedded Vault, the scripted model, its mailboxes. */
export interface AgentBed {
  readonly vault: VaultFixture;
  readonly anthropic: AnthropicEmulator;
  /** The mailbox the bed started with, or the latest from `newMailbox`. */
  readonly mailbox: MailboxUnderTest;
  /** Starts a mailbox emulator of this kind, stopped at teardown, and makes it the bed's mailbox. */
  newMailbox(kind: ProviderKind): Promise<MailboxUnderTest>;
  /** Starts an agent on the bed's Vault and model (and mailbox, unless given one); torn down with the bed. */
  startAgent(options: Omit<AgentOptions, 'vault' | 'anthropic'>): Promise<AgentUnderTest>;
  /** Tears down an agent started elsewhere (the one `restart()` returns) with the bed. */
  track(agent: AgentUnderTest): AgentUnderTest;
  /** Runs at teardown; the last registered runs first. */
  onTeardown(cleanup: () => Promise<unknown>): void;
}

/**
 * Registers the current suite's before/after hooks (call it inside `describe`): an embedded Vault, the
 * Anthropic emulator answering with `inboxScript`, and a mailbox of `options.mailbox` when given. At
 * teardown every agent is stopped and its data directory removed, then everything else, last first; a
 * failure does not stop the rest, and is reported once all of it ran.
 */
export function agentBed(options: { mailbox?: ProviderKind } = {}): AgentBed {
  let vault: VaultFixture | undefined;
  let anthropic: AnthropicEmulator | undefined;
  let mailbox: MailboxUnderTest | undefined;
  const teardown: (() => Promise<unknown>)[] = [];
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`the bed's ${what} starts in before(): use it inside a test or hook`);
    return value;
  };

  const bed: AgentBed = {
    get vault() {
      return started(vault, 'Vault');
    },
    get anthropic() {
      return started(anthropic, 'model emulator');
    },
    get mailbox() {
      return started(mailbox, 'mailbox');
    },
    newMailbox: async (kind) => {
      const box = await startMailbox(kind);
      teardown.push(() => box.stop());
      mailbox = box;
      return box;
    },
    startAgent: async (agentOptions) =>
      bed.track(
        await startAgent({
          vault: bed.vault,
          anthropic: bed.anthropic,
          ...(mailbox === undefined ? {} : { mailbox }),
          ...agentOptions,
        }),
      ),
    track: (agent) => {
      teardown.push(async () => {
        await agent.stop().catch(() => undefined);
        await removeDir(agent.dataDir);
      });
      return agent;
    },
    onTeardown: (cleanup) => {
      teardown.push(cleanup);
    },
  };

  before(async () => {
    const fixture = await startVault();
    vault = fixture;
    teardown.push(() => fixture.close());
    const model = new AnthropicEmulator();
    await model.start();
    anthropic = model;
    teardown.push(() => model.stop());
    model.useScript(inboxScript);
    if (options.mailbox !== undefined) await bed.newMailbox(options.mailbox);
  });
  after(async () => {
    const failures: unknown[] = [];
    for (const cleanup of teardown.splice(0).reverse())
      await cleanup().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw new AggregateError(failures, 'agent bed teardown failed');
  });
  return bed;
}
