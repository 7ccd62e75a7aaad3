/** The Router and the types modules use to plug into it. */
export * from './router.js';
export type { ConfigChange, ConfigChangeSet, ConfigSubscriber, CommitResult, Revision, RevisionInfo, ConfigData, Row } from '../config/index.js';
