/**
 * The open-interview schema document (seeds/002_e9d87324c1991635.txt, "Turso Database Schema
 * Documentation", schema version 2.2.0) transcribed table by table, column by column.
 *
 * - `table` / `name`: the document's camelCase names.
 * - `sqlName`: the SQL name used by the system's Drizzle schema (snake_case).
 * - `type` / `constraints`: the document's Type and Constraints cells, verbatim
 *   (`''` where the cell is empty; `AUTO` means an application-generated value).
 * - `default`: the DEFAULT value as an SQL literal, as the document writes it
 *   (`'active'` with quotes for text, `5` for integers); absent when none is documented.
 */
export interface DocumentedColumn {
  name: string;
  sqlName: string;
  type: 'TEXT' | 'INTEGER';
  constraints: string;
  default?: string;
}

export interface DocumentedTable {
  table: string;
  sqlName: string;
  columns: DocumentedColumn[];
}

export const openInterviewDocument: DocumentedTable[] = [
  {
    table: 'users',
    sqlName: 'users',
    columns: [
      { name: 'id', sqlName: 'id', type: 'TEXT', constraints: 'PRIMARY KEY' },
      { name: 'username', sqlName: 'username', type: 'TEXT', constraints: 'NOT NULL, UNIQUE' },
      { name: 'password', sqlName: 'password', type: 'TEXT', constraints: 'NOT NULL' },
    ],
  },
  {
    table: 'questions',
    sqlName: 'questions',
    columns: [
      { name: 'id', sqlName: 'id', type: 'TEXT', constraints: 'PRIMARY KEY' },
      { name: 'question', sqlName: 'question', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'answer', sqlName: 'answer', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'explanation', sqlName: 'explanation', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'diagram', sqlName: 'diagram', type: 'TEXT', constraints: '' },
      { name: 'difficulty', sqlName: 'difficulty', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'tags', sqlName: 'tags', type: 'TEXT', constraints: '' },
      { name: 'channel', sqlName: 'channel', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'subChannel', sqlName: 'sub_channel', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'sourceUrl', sqlName: 'source_url', type: 'TEXT', constraints: '' },
      { name: 'videos', sqlName: 'videos', type: 'TEXT', constraints: '' },
      { name: 'companies', sqlName: 'companies', type: 'TEXT', constraints: '' },
      { name: 'eli5', sqlName: 'eli5', type: 'TEXT', constraints: '' },
      { name: 'tldr', sqlName: 'tldr', type: 'TEXT', constraints: '' },
      { name: 'relevanceScore', sqlName: 'relevance_score', type: 'INTEGER', constraints: '' },
      { name: 'relevanceDetails', sqlName: 'relevance_details', type: 'TEXT', constraints: '' },
      { name: 'jobTitleRelevance', sqlName: 'job_title_relevance', type: 'TEXT', constraints: '' },
      { name: 'experienceLevelTags', sqlName: 'experience_level_tags', type: 'TEXT', constraints: '' },
      { name: 'voiceKeywords', sqlName: 'voice_keywords', type: 'TEXT', constraints: '' },
      { name: 'voiceSuitable', sqlName: 'voice_suitable', type: 'INTEGER', constraints: '' },
      { name: 'status', sqlName: 'status', type: 'TEXT', constraints: "DEFAULT 'active'", default: "'active'" },
      { name: 'isNew', sqlName: 'is_new', type: 'INTEGER', constraints: 'DEFAULT 1', default: '1' },
      { name: 'lastUpdated', sqlName: 'last_updated', type: 'TEXT', constraints: '' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
    ],
  },
  {
    table: 'channelMappings',
    sqlName: 'channel_mappings',
    columns: [
      { name: 'id', sqlName: 'id', type: 'INTEGER', constraints: 'PRIMARY KEY, AUTO INCREMENT' },
      { name: 'channelId', sqlName: 'channel_id', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'subChannel', sqlName: 'sub_channel', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'questionId', sqlName: 'question_id', type: 'TEXT', constraints: 'NOT NULL, FOREIGN KEY' },
    ],
  },
  {
    table: 'workQueue',
    sqlName: 'work_queue',
    columns: [
      { name: 'id', sqlName: 'id', type: 'INTEGER', constraints: 'PRIMARY KEY, AUTO INCREMENT' },
      { name: 'itemType', sqlName: 'item_type', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'itemId', sqlName: 'item_id', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'action', sqlName: 'action', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'priority', sqlName: 'priority', type: 'INTEGER', constraints: 'DEFAULT 5', default: '5' },
      { name: 'status', sqlName: 'status', type: 'TEXT', constraints: "DEFAULT 'pending'", default: "'pending'" },
      { name: 'reason', sqlName: 'reason', type: 'TEXT', constraints: '' },
      { name: 'createdBy', sqlName: 'created_by', type: 'TEXT', constraints: '' },
      { name: 'assignedTo', sqlName: 'assigned_to', type: 'TEXT', constraints: '' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
      { name: 'processedAt', sqlName: 'processed_at', type: 'TEXT', constraints: '' },
      { name: 'result', sqlName: 'result', type: 'TEXT', constraints: '' },
    ],
  },
  {
    table: 'botLedger',
    sqlName: 'bot_ledger',
    columns: [
      { name: 'id', sqlName: 'id', type: 'INTEGER', constraints: 'PRIMARY KEY, AUTO INCREMENT' },
      { name: 'botName', sqlName: 'bot_name', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'action', sqlName: 'action', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'itemType', sqlName: 'item_type', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'itemId', sqlName: 'item_id', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'beforeState', sqlName: 'before_state', type: 'TEXT', constraints: '' },
      { name: 'afterState', sqlName: 'after_state', type: 'TEXT', constraints: '' },
      { name: 'reason', sqlName: 'reason', type: 'TEXT', constraints: '' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
    ],
  },
  {
    table: 'botRuns',
    sqlName: 'bot_runs',
    columns: [
      { name: 'id', sqlName: 'id', type: 'INTEGER', constraints: 'PRIMARY KEY, AUTO INCREMENT' },
      { name: 'botName', sqlName: 'bot_name', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'startedAt', sqlName: 'started_at', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'completedAt', sqlName: 'completed_at', type: 'TEXT', constraints: '' },
      { name: 'status', sqlName: 'status', type: 'TEXT', constraints: "DEFAULT 'running'", default: "'running'" },
      { name: 'itemsProcessed', sqlName: 'items_processed', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'itemsCreated', sqlName: 'items_created', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'itemsUpdated', sqlName: 'items_updated', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'itemsDeleted', sqlName: 'items_deleted', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'summary', sqlName: 'summary', type: 'TEXT', constraints: '' },
    ],
  },
  {
    table: 'questionRelationships',
    sqlName: 'question_relationships',
    columns: [
      { name: 'id', sqlName: 'id', type: 'INTEGER', constraints: 'PRIMARY KEY, AUTO INCREMENT' },
      { name: 'sourceQuestionId', sqlName: 'source_question_id', type: 'TEXT', constraints: 'NOT NULL, FOREIGN KEY' },
      { name: 'targetQuestionId', sqlName: 'target_question_id', type: 'TEXT', constraints: 'NOT NULL, FOREIGN KEY' },
      { name: 'relationshipType', sqlName: 'relationship_type', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'strength', sqlName: 'strength', type: 'INTEGER', constraints: 'DEFAULT 50', default: '50' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
    ],
  },
  {
    table: 'voiceSessions',
    sqlName: 'voice_sessions',
    columns: [
      { name: 'id', sqlName: 'id', type: 'TEXT', constraints: 'PRIMARY KEY' },
      { name: 'topic', sqlName: 'topic', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'description', sqlName: 'description', type: 'TEXT', constraints: '' },
      { name: 'channel', sqlName: 'channel', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'difficulty', sqlName: 'difficulty', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'questionIds', sqlName: 'question_ids', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'totalQuestions', sqlName: 'total_questions', type: 'INTEGER', constraints: 'NOT NULL' },
      { name: 'estimatedMinutes', sqlName: 'estimated_minutes', type: 'INTEGER', constraints: 'DEFAULT 5', default: '5' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
      { name: 'lastUpdated', sqlName: 'last_updated', type: 'TEXT', constraints: '' },
    ],
  },
  {
    table: 'certifications',
    sqlName: 'certifications',
    columns: [
      { name: 'id', sqlName: 'id', type: 'TEXT', constraints: 'PRIMARY KEY' },
      { name: 'name', sqlName: 'name', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'provider', sqlName: 'provider', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'description', sqlName: 'description', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'icon', sqlName: 'icon', type: 'TEXT', constraints: "DEFAULT 'award'", default: "'award'" },
      { name: 'color', sqlName: 'color', type: 'TEXT', constraints: "DEFAULT 'text-primary'", default: "'text-primary'" },
      { name: 'difficulty', sqlName: 'difficulty', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'category', sqlName: 'category', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'estimatedHours', sqlName: 'estimated_hours', type: 'INTEGER', constraints: 'DEFAULT 40', default: '40' },
      { name: 'examCode', sqlName: 'exam_code', type: 'TEXT', constraints: '' },
      { name: 'officialUrl', sqlName: 'official_url', type: 'TEXT', constraints: '' },
      { name: 'domains', sqlName: 'domains', type: 'TEXT', constraints: '' },
      { name: 'channelMappings', sqlName: 'channel_mappings', type: 'TEXT', constraints: '' },
      { name: 'tags', sqlName: 'tags', type: 'TEXT', constraints: '' },
      { name: 'prerequisites', sqlName: 'prerequisites', type: 'TEXT', constraints: '' },
      { name: 'status', sqlName: 'status', type: 'TEXT', constraints: "DEFAULT 'active'", default: "'active'" },
      { name: 'questionCount', sqlName: 'question_count', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'passingScore', sqlName: 'passing_score', type: 'INTEGER', constraints: 'DEFAULT 70', default: '70' },
      { name: 'examDuration', sqlName: 'exam_duration', type: 'INTEGER', constraints: 'DEFAULT 90', default: '90' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
      { name: 'lastUpdated', sqlName: 'last_updated', type: 'TEXT', constraints: '' },
    ],
  },
  {
    table: 'questionHistory',
    sqlName: 'question_history',
    columns: [
      { name: 'id', sqlName: 'id', type: 'INTEGER', constraints: 'PRIMARY KEY, AUTO INCREMENT' },
      { name: 'questionId', sqlName: 'question_id', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'questionType', sqlName: 'question_type', type: 'TEXT', constraints: "NOT NULL, DEFAULT 'question'", default: "'question'" },
      { name: 'eventType', sqlName: 'event_type', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'eventSource', sqlName: 'event_source', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'sourceName', sqlName: 'source_name', type: 'TEXT', constraints: '' },
      { name: 'changesSummary', sqlName: 'changes_summary', type: 'TEXT', constraints: '' },
      { name: 'changedFields', sqlName: 'changed_fields', type: 'TEXT', constraints: '' },
      { name: 'beforeSnapshot', sqlName: 'before_snapshot', type: 'TEXT', constraints: '' },
      { name: 'afterSnapshot', sqlName: 'after_snapshot', type: 'TEXT', constraints: '' },
      { name: 'reason', sqlName: 'reason', type: 'TEXT', constraints: '' },
      { name: 'metadata', sqlName: 'metadata', type: 'TEXT', constraints: '' },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
    ],
  },
  {
    table: 'userSessions',
    sqlName: 'user_sessions',
    columns: [
      { name: 'id', sqlName: 'id', type: 'TEXT', constraints: 'PRIMARY KEY' },
      { name: 'userId', sqlName: 'user_id', type: 'TEXT', constraints: '' },
      { name: 'sessionType', sqlName: 'session_type', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'sessionKey', sqlName: 'session_key', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'title', sqlName: 'title', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'subtitle', sqlName: 'subtitle', type: 'TEXT', constraints: '' },
      { name: 'channelId', sqlName: 'channel_id', type: 'TEXT', constraints: '' },
      { name: 'certificationId', sqlName: 'certification_id', type: 'TEXT', constraints: '' },
      { name: 'progress', sqlName: 'progress', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'totalItems', sqlName: 'total_items', type: 'INTEGER', constraints: 'NOT NULL' },
      { name: 'completedItems', sqlName: 'completed_items', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'sessionData', sqlName: 'session_data', type: 'TEXT', constraints: '' },
      { name: 'startedAt', sqlName: 'started_at', type: 'TEXT', constraints: 'AUTO' },
      { name: 'lastAccessedAt', sqlName: 'last_accessed_at', type: 'TEXT', constraints: 'AUTO' },
      { name: 'completedAt', sqlName: 'completed_at', type: 'TEXT', constraints: '' },
      { name: 'status', sqlName: 'status', type: 'TEXT', constraints: "DEFAULT 'active'", default: "'active'" },
    ],
  },
  {
    table: 'learningPaths',
    sqlName: 'learning_paths',
    columns: [
      { name: 'id', sqlName: 'id', type: 'TEXT', constraints: 'PRIMARY KEY' },
      { name: 'title', sqlName: 'title', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'description', sqlName: 'description', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'pathType', sqlName: 'path_type', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'targetCompany', sqlName: 'target_company', type: 'TEXT', constraints: '' },
      { name: 'targetJobTitle', sqlName: 'target_job_title', type: 'TEXT', constraints: '' },
      { name: 'difficulty', sqlName: 'difficulty', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'estimatedHours', sqlName: 'estimated_hours', type: 'INTEGER', constraints: 'DEFAULT 40', default: '40' },
      { name: 'questionIds', sqlName: 'question_ids', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'channels', sqlName: 'channels', type: 'TEXT', constraints: 'NOT NULL' },
      { name: 'tags', sqlName: 'tags', type: 'TEXT', constraints: '' },
      { name: 'prerequisites', sqlName: 'prerequisites', type: 'TEXT', constraints: '' },
      { name: 'learningObjectives', sqlName: 'learning_objectives', type: 'TEXT', constraints: '' },
      { name: 'milestones', sqlName: 'milestones', type: 'TEXT', constraints: '' },
      { name: 'popularity', sqlName: 'popularity', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'completionRate', sqlName: 'completion_rate', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'averageRating', sqlName: 'average_rating', type: 'INTEGER', constraints: 'DEFAULT 0', default: '0' },
      { name: 'metadata', sqlName: 'metadata', type: 'TEXT', constraints: '' },
      { name: 'status', sqlName: 'status', type: 'TEXT', constraints: "DEFAULT 'active'", default: "'active'" },
      { name: 'createdAt', sqlName: 'created_at', type: 'TEXT', constraints: 'AUTO' },
      { name: 'lastUpdated', sqlName: 'last_updated', type: 'TEXT', constraints: '' },
      { name: 'lastGenerated', sqlName: 'last_generated', type: 'TEXT', constraints: '' },
    ],
  },
];

/** Foreign keys the document lists ("Database Relationships"), as `table.column -> table.column` in document names. */
export const openInterviewDocumentForeignKeys: Array<{ table: string; column: string; references: { table: string; column: string } }> = [
  { table: 'channelMappings', column: 'questionId', references: { table: 'questions', column: 'id' } },
  { table: 'questionRelationships', column: 'sourceQuestionId', references: { table: 'questions', column: 'id' } },
  { table: 'questionRelationships', column: 'targetQuestionId', references: { table: 'questions', column: 'id' } },
];
