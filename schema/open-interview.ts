/**
 * open-interview (Code Reels) — Drizzle schema for the interview question bank.
 *
 * Table and column names (snake_case in SQL, camelCase in TypeScript) follow the
 * system's own `shared/schema.ts` as of commit 29d9ad967b320e014c8519035b7c001607a3d0c3
 * (the parent of f404b68e0, the last Turso-era revision). The SQL it produces is meant
 * to be identical to what that schema produces, so qbank can push to and read from a
 * database created by the system itself:
 *
 *  - "AUTO" timestamps and generated UUIDs are application-side defaults ($defaultFn);
 *    the tables carry no SQL DEFAULT for them.
 *  - `enum` lists on text columns are TypeScript-only (no CHECK constraint in SQL).
 *  - JSON-bearing columns (tags, companies, videos, ...) are plain TEXT holding
 *    JSON-encoded strings, exactly as the system stores them.
 *  - Secondary indexes: the document promises "foreign key indexes on relationship
 *    tables"; the reference Drizzle schema declares none, and the system created them in
 *    raw SQL. They are declared here under the names that SQL used.
 *  - Foreign keys have no ON DELETE / ON UPDATE action (SQLite default NO ACTION).
 */
import { randomUUID } from 'node:crypto';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const SYSTEM = 'open-interview' as const;

/** Application-side value for the documented "AUTO" timestamp columns. */
export const nowIso = (): string => new Date().toISOString();
/** Application-side value for the documented "UUID generated automatically" ids. */
export const newUuid = (): string => randomUUID();

// ---------------------------------------------------------------------------
// Enumerated values, as listed by the schema document
// ---------------------------------------------------------------------------
export const QUESTION_DIFFICULTIES = ['beginner', 'intermediate', 'advanced'] as const;
export const QUESTION_STATUSES = ['active', 'flagged', 'deleted'] as const;
export const WORK_ITEM_TYPES = ['question', 'challenge', 'test', 'blog'] as const;
export const WORK_ACTIONS = ['improve', 'delete', 'verify', 'enrich'] as const;
export const WORK_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export const LEDGER_ACTIONS = ['create', 'update', 'delete', 'verify', 'flag'] as const;
export const BOT_RUN_STATUSES = ['running', 'completed', 'failed'] as const;
export const RELATIONSHIP_TYPES = ['prerequisite', 'follow_up', 'related', 'deeper_dive'] as const;
export const CERTIFICATION_DIFFICULTIES = ['beginner', 'intermediate', 'advanced', 'expert'] as const;
export const PUBLICATION_STATUSES = ['active', 'draft', 'archived'] as const;
export const HISTORY_QUESTION_TYPES = ['question', 'test', 'coding'] as const;
export const HISTORY_EVENT_SOURCES = ['bot', 'user', 'system', 'import'] as const;
export const SESSION_TYPES = ['test', 'voice-interview', 'certification', 'channel'] as const;
export const SESSION_STATUSES = ['active', 'completed', 'abandoned'] as const;
export const PATH_TYPES = ['company', 'job-title', 'skill', 'certification'] as const;

// Values the document lists as open-ended ("etc."); kept as plain text columns.
/** certifications.category examples (document: "cloud, devops, security, data, ai, etc."). */
export const CERTIFICATION_CATEGORY_EXAMPLES = ['cloud', 'devops', 'security', 'data', 'ai'] as const;
/** questionHistory.eventType examples (document: "created, updated, improved, flagged, etc."). */
export const HISTORY_EVENT_TYPE_EXAMPLES = ['created', 'updated', 'improved', 'flagged'] as const;

// ---------------------------------------------------------------------------
// 1. users
// ---------------------------------------------------------------------------
export const users = sqliteTable('users', {
  id: text('id').primaryKey().$defaultFn(newUuid),
  username: text('username').notNull().unique(),
  password: text('password').notNull(), // hashed
});

// ---------------------------------------------------------------------------
// 2. questions
// ---------------------------------------------------------------------------
export const questions = sqliteTable('questions', {
  id: text('id').primaryKey(),
  question: text('question').notNull(),
  answer: text('answer').notNull(),
  explanation: text('explanation').notNull(),
  diagram: text('diagram'), // Mermaid source
  difficulty: text('difficulty', { enum: QUESTION_DIFFICULTIES }).notNull(),
  tags: text('tags'), // JSON array of strings
  channel: text('channel').notNull(),
  subChannel: text('sub_channel').notNull(),
  sourceUrl: text('source_url'),
  videos: text('videos'), // JSON object of video links
  companies: text('companies'), // JSON array of strings
  eli5: text('eli5'),
  tldr: text('tldr'),
  relevanceScore: integer('relevance_score'), // 0-100
  relevanceDetails: text('relevance_details'), // JSON scoring breakdown
  jobTitleRelevance: text('job_title_relevance'), // JSON { jobTitle: score }
  experienceLevelTags: text('experience_level_tags'), // JSON array
  voiceKeywords: text('voice_keywords'), // JSON array
  voiceSuitable: integer('voice_suitable'), // 1 = suitable, 0 = not
  status: text('status', { enum: QUESTION_STATUSES }).default('active'),
  isNew: integer('is_new').default(1), // 1 = younger than 7 days
  lastUpdated: text('last_updated'), // ISO-8601
  createdAt: text('created_at').$defaultFn(nowIso), // ISO-8601
});

// ---------------------------------------------------------------------------
// 3. channelMappings
// ---------------------------------------------------------------------------
export const channelMappings = sqliteTable('channel_mappings', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  channelId: text('channel_id').notNull(),
  subChannel: text('sub_channel').notNull(),
  questionId: text('question_id')
    .notNull()
    .references(() => questions.id),
}, (table) => [index('idx_channel_mappings_question').on(table.questionId)]);

// ---------------------------------------------------------------------------
// 4. workQueue — bot coordination
// ---------------------------------------------------------------------------
export const workQueue = sqliteTable('work_queue', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  itemType: text('item_type', { enum: WORK_ITEM_TYPES }).notNull(),
  itemId: text('item_id').notNull(),
  action: text('action', { enum: WORK_ACTIONS }).notNull(),
  priority: integer('priority').default(5), // 1 = highest, 10 = lowest
  status: text('status', { enum: WORK_STATUSES }).default('pending'),
  reason: text('reason'),
  createdBy: text('created_by'), // bot that queued the item
  assignedTo: text('assigned_to'), // bot that should process it
  createdAt: text('created_at').$defaultFn(nowIso),
  processedAt: text('processed_at'),
  result: text('result'), // JSON result or error message
});

// ---------------------------------------------------------------------------
// 5. botLedger — audit trail of bot actions
// ---------------------------------------------------------------------------
export const botLedger = sqliteTable('bot_ledger', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  botName: text('bot_name').notNull(),
  action: text('action', { enum: LEDGER_ACTIONS }).notNull(),
  itemType: text('item_type').notNull(),
  itemId: text('item_id').notNull(),
  beforeState: text('before_state'), // JSON snapshot
  afterState: text('after_state'), // JSON snapshot
  reason: text('reason'),
  createdAt: text('created_at').$defaultFn(nowIso),
});

// ---------------------------------------------------------------------------
// 6. botRuns — execution history
// ---------------------------------------------------------------------------
export const botRuns = sqliteTable('bot_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  botName: text('bot_name').notNull(),
  startedAt: text('started_at').notNull(),
  completedAt: text('completed_at'),
  status: text('status', { enum: BOT_RUN_STATUSES }).default('running'),
  itemsProcessed: integer('items_processed').default(0),
  itemsCreated: integer('items_created').default(0),
  itemsUpdated: integer('items_updated').default(0),
  itemsDeleted: integer('items_deleted').default(0),
  summary: text('summary'), // JSON
});

// ---------------------------------------------------------------------------
// 7. questionRelationships — grouping for voice sessions
// ---------------------------------------------------------------------------
export const questionRelationships = sqliteTable('question_relationships', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  sourceQuestionId: text('source_question_id')
    .notNull()
    .references(() => questions.id),
  targetQuestionId: text('target_question_id')
    .notNull()
    .references(() => questions.id),
  relationshipType: text('relationship_type', { enum: RELATIONSHIP_TYPES }).notNull(),
  strength: integer('strength').default(50), // 0-100
  createdAt: text('created_at').$defaultFn(nowIso),
}, (table) => [
  index('idx_question_relationships_source').on(table.sourceQuestionId),
  index('idx_question_relationships_target').on(table.targetQuestionId),
]);

// ---------------------------------------------------------------------------
// 8. voiceSessions
// ---------------------------------------------------------------------------
export const voiceSessions = sqliteTable('voice_sessions', {
  id: text('id').primaryKey(),
  topic: text('topic').notNull(),
  description: text('description'),
  channel: text('channel').notNull(),
  difficulty: text('difficulty', { enum: QUESTION_DIFFICULTIES }).notNull(),
  questionIds: text('question_ids').notNull(), // JSON array, in order
  totalQuestions: integer('total_questions').notNull(),
  estimatedMinutes: integer('estimated_minutes').default(5),
  createdAt: text('created_at').$defaultFn(nowIso),
  lastUpdated: text('last_updated'),
});

// ---------------------------------------------------------------------------
// 9. certifications
// ---------------------------------------------------------------------------
export const certifications = sqliteTable('certifications', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  provider: text('provider').notNull(),
  description: text('description').notNull(),
  icon: text('icon').default('award'),
  color: text('color').default('text-primary'),
  difficulty: text('difficulty', { enum: CERTIFICATION_DIFFICULTIES }).notNull(),
  category: text('category').notNull(), // open-ended: cloud, devops, security, data, ai, ...
  estimatedHours: integer('estimated_hours').default(40),
  examCode: text('exam_code'),
  officialUrl: text('official_url'),
  domains: text('domains'), // JSON array of { name, weight }
  channelMappings: text('channel_mappings'), // JSON array
  tags: text('tags'), // JSON array
  prerequisites: text('prerequisites'), // JSON array of certification ids
  status: text('status', { enum: PUBLICATION_STATUSES }).default('active'),
  questionCount: integer('question_count').default(0),
  passingScore: integer('passing_score').default(70), // percent
  examDuration: integer('exam_duration').default(90), // minutes
  createdAt: text('created_at').$defaultFn(nowIso),
  lastUpdated: text('last_updated'),
});

// ---------------------------------------------------------------------------
// 10. questionHistory
// ---------------------------------------------------------------------------
export const questionHistory = sqliteTable('question_history', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  questionId: text('question_id').notNull(), // question, test or challenge id (no FK)
  questionType: text('question_type', { enum: HISTORY_QUESTION_TYPES }).notNull().default('question'),
  eventType: text('event_type').notNull(), // open-ended: created, updated, improved, flagged, ...
  eventSource: text('event_source', { enum: HISTORY_EVENT_SOURCES }).notNull(),
  sourceName: text('source_name'),
  changesSummary: text('changes_summary'),
  changedFields: text('changed_fields'), // JSON array
  beforeSnapshot: text('before_snapshot'), // JSON
  afterSnapshot: text('after_snapshot'), // JSON
  reason: text('reason'),
  metadata: text('metadata'), // JSON
  createdAt: text('created_at').$defaultFn(nowIso),
});

// ---------------------------------------------------------------------------
// 11. userSessions — resumable sessions
// ---------------------------------------------------------------------------
export const userSessions = sqliteTable('user_sessions', {
  id: text('id').primaryKey().$defaultFn(newUuid),
  userId: text('user_id'),
  sessionType: text('session_type', { enum: SESSION_TYPES }).notNull(),
  sessionKey: text('session_key').notNull(), // described as unique, but not constrained
  title: text('title').notNull(),
  subtitle: text('subtitle'),
  channelId: text('channel_id'),
  certificationId: text('certification_id'),
  progress: integer('progress').default(0), // 0-100
  totalItems: integer('total_items').notNull(),
  completedItems: integer('completed_items').default(0),
  sessionData: text('session_data'), // JSON
  startedAt: text('started_at').$defaultFn(nowIso),
  lastAccessedAt: text('last_accessed_at').$defaultFn(nowIso),
  completedAt: text('completed_at'),
  status: text('status', { enum: SESSION_STATUSES }).default('active'),
});

// ---------------------------------------------------------------------------
// 12. learningPaths
// ---------------------------------------------------------------------------
export const learningPaths = sqliteTable('learning_paths', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  description: text('description').notNull(),
  pathType: text('path_type', { enum: PATH_TYPES }).notNull(),
  targetCompany: text('target_company'),
  targetJobTitle: text('target_job_title'),
  difficulty: text('difficulty', { enum: QUESTION_DIFFICULTIES }).notNull(),
  estimatedHours: integer('estimated_hours').default(40),
  questionIds: text('question_ids').notNull(), // JSON array, in order
  channels: text('channels').notNull(), // JSON array
  tags: text('tags'), // JSON array
  prerequisites: text('prerequisites'), // JSON array of path ids
  learningObjectives: text('learning_objectives'), // JSON array
  milestones: text('milestones'), // JSON array of milestone objects
  popularity: integer('popularity').default(0),
  completionRate: integer('completion_rate').default(0), // percent
  averageRating: integer('average_rating').default(0), // 0-100
  metadata: text('metadata'), // JSON
  status: text('status', { enum: PUBLICATION_STATUSES }).default('active'),
  createdAt: text('created_at').$defaultFn(nowIso),
  lastUpdated: text('last_updated'),
  lastGenerated: text('last_generated'),
});

/** Every table of the system, keyed by its TypeScript (document) name, in document order. */
export const tables = {
  users,
  questions,
  channelMappings,
  workQueue,
  botLedger,
  botRuns,
  questionRelationships,
  voiceSessions,
  certifications,
  questionHistory,
  userSessions,
  learningPaths,
};

export type OpenInterviewTableName = keyof typeof tables;
export type Question = typeof questions.$inferSelect;
export type NewQuestion = typeof questions.$inferInsert;
