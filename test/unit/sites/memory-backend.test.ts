import { MemorySiteBackend } from '../../../src/engine/sites/memory-backend.js';
import { backendContract } from '../../integration/sites/backend-contract.js';

// The same contract as the SQLite and MariaDB backends (test/integration/sites).
backendContract('memory', { fresh: async (masks) => new MemorySiteBackend(masks) });
