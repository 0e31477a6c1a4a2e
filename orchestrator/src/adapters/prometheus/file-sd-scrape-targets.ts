import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import path from 'node:path';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ScrapeTarget, ScrapeTargets } from '../../ports/scrape-targets.ts';

type FileSdGroup = { targets: string[]; labels: Record<string, string> };

/** One write queue per file for the whole process, however many instances point at it. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Prometheus `file_sd` JSON, one group per agent with its `client` label. Every change is written to a
 * temporary file, fsynced and renamed over the old one, so Prometheus never reads a half-written file.
 */
export class FileSdScrapeTargets implements ScrapeTargets {
  private readonly filePath: string;

  constructor(filePath: string) {
    this.filePath = path.resolve(filePath);
  }

  register(target: ScrapeTarget): Promise<void> {
    return this.update((targets) => [...targets.filter((t) => t.clientId !== target.clientId), target]);
  }

  unregister(clientId: ClientId): Promise<void> {
    return this.update((targets) => targets.filter((t) => t.clientId !== clientId));
  }

  async list(): Promise<ScrapeTarget[]> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new FleetError('unavailable', `cannot read scrape targets ${this.filePath}`, { cause: error });
    }
    let groups: FileSdGroup[];
    try {
      groups = JSON.parse(text) as FileSdGroup[];
    } catch (error) {
      throw new FleetError('integrity', `scrape targets file ${this.filePath} is not valid JSON`, { cause: error });
    }
    return groups.flatMap((group) =>
      group.targets.map((address) => ({ clientId: (group.labels.client ?? '') as ClientId, address })),
    );
  }

  /**
   * Serialises read-modify-write cycles on this file within the process. One orchestrator owns a fleet's
   * home directory (its socket refuses a second one), so there is one writing process per file.
   */
  private update(change: (targets: ScrapeTarget[]) => ScrapeTarget[]): Promise<void> {
    const previous = queues.get(this.filePath) ?? Promise.resolve();
    const next = previous.then(async () => {
      const targets = change(await this.list()).sort((a, b) => a.clientId.localeCompare(b.clientId));
      const groups: FileSdGroup[] = targets.map((t) => ({ targets: [t.address], labels: { client: t.clientId } }));
      await this.writeAtomically(`${JSON.stringify(groups, null, 2)}\n`);
    });
    queues.set(this.filePath, next.catch(() => undefined));
    return next;
  }

  private async writeAtomically(content: string): Promise<void> {
    try {
      await writeFileAtomically(this.filePath, content, { mode: 0o644 });
    } catch (error) {
      throw new FleetError('unavailable', `cannot write scrape targets ${this.filePath}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
