import { memoryTeamStore } from '../unit/team/memory-team-store.ts';
import { describeTeamStoreContract } from './team-store.contract.ts';

describeTeamStoreContract('memory (unit tests)', async () => ({ store: memoryTeamStore(), close: async () => undefined }));
