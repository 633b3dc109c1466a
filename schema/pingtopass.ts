import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { randomUUID } from 'node:crypto';

// Runtime id default; the SQL schema is unaffected by the generator chosen.
export const generateId = () => randomUUID().replace(/-/g, '').slice(0, 24);

// The columns every table of the document declares alike: a generated text id and creation/update times.
const primaryId = () => text('id').$defaultFn(() => generateId()).primaryKey();
const createdAt = () => integer('created_at', { mode: 'timestamp' })
  .default(sql`(unixepoch())`);
const updatedAt = () => integer('updated_at', { mode: 'timestamp' })
  .default(sql`(unixepoch())`)
  .$onUpdate(() => sql`(unixepoch())`);

// Users table
export const users = sqliteTable('users', {
  id: primaryId(),
  email: text('email').notNull().unique(),
  name: text('name'),
  googleId: text('google_id').unique(),
  avatarUrl: text('avatar_url'),
  stripeCustomerId: text('stripe_customer_id').unique(),
  subscriptionTier: text('subscription_tier', { 
    enum: ['free', 'pro', 'enterprise'] 
  }).default('free'),
  subscriptionStatus: text('subscription_status', {
    enum: ['active', 'canceled', 'past_due', 'trialing']
  }),
  trialEndsAt: integer('trial_ends_at', { mode: 'timestamp' }),
  credits: integer('credits').default(0), // For pay-per-use model
  settings: text('settings', { mode: 'json' }).$type<UserSettings>(),
  lastLoginAt: integer('last_login_at', { mode: 'timestamp' }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (table) => ({
  emailIdx: index('users_email_idx').on(table.email),
  googleIdIdx: index('users_google_id_idx').on(table.googleId),
  stripeCustomerIdx: index('users_stripe_customer_idx').on(table.stripeCustomerId),
}));

// Exams table
export const exams = sqliteTable('exams', {
  id: primaryId(),
  code: text('code').notNull().unique(), // e.g., 'CCNA-200-301'
  name: text('name').notNull(),
  vendor: text('vendor').notNull(), // Cisco, AWS, Microsoft, etc.
  category: text('category').notNull(), // Networking, Cloud, Security, etc.
  description: text('description'),
  objectives: text('objectives', { mode: 'json' }).$type<ExamObjective[]>(),
  passingScore: integer('passing_score').notNull(),
  totalQuestions: integer('total_questions').notNull(),
  timeLimit: integer('time_limit'), // in minutes
  price: real('price'), // Exam cost
  retireDate: integer('retire_date', { mode: 'timestamp' }),
  isActive: integer('is_active', { mode: 'boolean' }).default(true),
  isBeta: integer('is_beta', { mode: 'boolean' }).default(false),
  metadata: text('metadata', { mode: 'json' }).$type<ExamMetadata>(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (table) => ({
  codeIdx: uniqueIndex('exams_code_idx').on(table.code),
  vendorIdx: index('exams_vendor_idx').on(table.vendor),
  categoryIdx: index('exams_category_idx').on(table.category),
  activeIdx: index('exams_active_idx').on(table.isActive),
}));

// Questions table
export const questions = sqliteTable('questions', {
  id: primaryId(),
  examId: text('exam_id').notNull().references(() => exams.id, { onDelete: 'cascade' }),
  type: text('type', { 
    enum: ['single', 'multiple', 'drag-drop', 'hotspot', 'simulation'] 
  }).notNull(),
  text: text('text').notNull(),
  explanation: text('explanation'),
  referenceUrl: text('reference_url'),
  difficulty: integer('difficulty').notNull(), // 1-5 scale
  objectiveId: text('objective_id'),
  tags: text('tags', { mode: 'json' }).$type<string[]>(),
  exhibitUrl: text('exhibit_url'), // For questions with images/diagrams
  simulationData: text('simulation_data', { mode: 'json' }), // For simulation questions
  isActive: integer('is_active', { mode: 'boolean' }).default(true),
  aiGenerated: integer('ai_generated', { mode: 'boolean' }).default(false),
  aiModel: text('ai_model'), // Track which AI model generated it
  reviewStatus: text('review_status', {
    enum: ['pending', 'approved', 'rejected']
  }).default('pending'),
  reviewedBy: text('reviewed_by'),
  reviewedAt: integer('reviewed_at', { mode: 'timestamp' }),
  statistics: text('statistics', { mode: 'json' }).$type<QuestionStats>(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (table) => ({
  examIdx: index('questions_exam_idx').on(table.examId),
  examObjectiveIdx: index('questions_exam_objective_idx').on(table.examId, table.objectiveId),
  difficultyIdx: index('questions_difficulty_idx').on(table.examId, table.difficulty),
  activeIdx: index('questions_active_idx').on(table.isActive),
  reviewStatusIdx: index('questions_review_status_idx').on(table.reviewStatus),
}));

// Answer options table
export const answerOptions = sqliteTable('answer_options', {
  id: primaryId(),
  questionId: text('question_id').notNull()
    .references(() => questions.id, { onDelete: 'cascade' }),
  text: text('text').notNull(),
  isCorrect: integer('is_correct', { mode: 'boolean' }).notNull(),
  explanation: text('explanation'), // Why this answer is correct/incorrect
  order: integer('order').notNull().default(0),
  createdAt: createdAt(),
}, (table) => ({
  questionIdx: index('answer_options_question_idx').on(table.questionId),
  questionOrderIdx: index('answer_options_question_order_idx').on(table.questionId, table.order),
}));

// Study sessions table
export const studySessions = sqliteTable('study_sessions', {
  id: primaryId(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  examId: text('exam_id').notNull().references(() => exams.id),
  mode: text('mode', { 
    enum: ['practice', 'timed', 'exam', 'review', 'adaptive'] 
  }).notNull(),
  totalQuestions: integer('total_questions').notNull(),
  answeredQuestions: integer('answered_questions').default(0),
  correctAnswers: integer('correct_answers').default(0),
  timeLimit: integer('time_limit'), // in seconds
  timeSpent: integer('time_spent'), // in seconds
  score: real('score'),
  passed: integer('passed', { mode: 'boolean' }),
  completedAt: integer('completed_at', { mode: 'timestamp' }),
  metadata: text('metadata', { mode: 'json' }).$type<SessionMetadata>(),
  createdAt: createdAt(),
}, (table) => ({
  userIdx: index('study_sessions_user_idx').on(table.userId),
  userExamIdx: index('study_sessions_user_exam_idx').on(table.userId, table.examId),
  modeIdx: index('study_sessions_mode_idx').on(table.mode),
  completedIdx: index('study_sessions_completed_idx').on(table.completedAt),
}));

// User answers table
export const userAnswers = sqliteTable('user_answers', {
  id: primaryId(),
  sessionId: text('session_id').notNull()
    .references(() => studySessions.id, { onDelete: 'cascade' }),
  questionId: text('question_id').notNull().references(() => questions.id),
  selectedOptions: text('selected_options', { mode: 'json' }).$type<string[]>().notNull(),
  isCorrect: integer('is_correct', { mode: 'boolean' }).notNull(),
  isMarked: integer('is_marked', { mode: 'boolean' }).default(false), // For review
  timeSpent: integer('time_spent'), // in seconds
  confidence: integer('confidence'), // 1-5 scale
  createdAt: createdAt(),
}, (table) => ({
  sessionIdx: index('user_answers_session_idx').on(table.sessionId),
  sessionQuestionIdx: uniqueIndex('user_answers_session_question_idx')
    .on(table.sessionId, table.questionId),
  correctIdx: index('user_answers_correct_idx').on(table.isCorrect),
}));

// User progress table
export const userProgress = sqliteTable('user_progress', {
  id: primaryId(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  examId: text('exam_id').notNull().references(() => exams.id),
  totalSessions: integer('total_sessions').default(0),
  questionsAnswered: integer('questions_answered').default(0),
  correctAnswers: integer('correct_answers').default(0),
  averageScore: real('average_score'),
  bestScore: real('best_score'),
  weakAreas: text('weak_areas', { mode: 'json' }).$type<WeakArea[]>(),
  strongAreas: text('strong_areas', { mode: 'json' }).$type<string[]>(),
  studyStreak: integer('study_streak').default(0),
  totalTimeSpent: integer('total_time_spent').default(0), // in seconds
  lastActivityAt: integer('last_activity_at', { mode: 'timestamp' }),
  readyForExam: integer('ready_for_exam', { mode: 'boolean' }).default(false),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (table) => ({
  userExamIdx: uniqueIndex('user_progress_user_exam_idx').on(table.userId, table.examId),
  lastActivityIdx: index('user_progress_last_activity_idx').on(table.lastActivityAt),
}));

// Bookmarks table
export const bookmarks = sqliteTable('bookmarks', {
  id: primaryId(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  questionId: text('question_id').notNull().references(() => questions.id, { onDelete: 'cascade' }),
  note: text('note'),
  createdAt: createdAt(),
}, (table) => ({
  userQuestionIdx: uniqueIndex('bookmarks_user_question_idx').on(table.userId, table.questionId),
  userIdx: index('bookmarks_user_idx').on(table.userId),
}));

// Feedback table
export const feedback = sqliteTable('feedback', {
  id: primaryId(),
  userId: text('user_id').notNull().references(() => users.id),
  questionId: text('question_id').references(() => questions.id),
  type: text('type', {
    enum: ['error', 'improvement', 'general']
  }).notNull(),
  message: text('message').notNull(),
  status: text('status', {
    enum: ['pending', 'reviewed', 'resolved']
  }).default('pending'),
  response: text('response'),
  createdAt: createdAt(),
}, (table) => ({
  statusIdx: index('feedback_status_idx').on(table.status),
  questionIdx: index('feedback_question_idx').on(table.questionId),
}));

export type UserSettings = {
  theme: 'light' | 'dark' | 'auto';
  fontSize: 'small' | 'medium' | 'large';
  showTimer: boolean;
  autoAdvance: boolean;
  soundEffects: boolean;
  emailNotifications: boolean;
};

export type ExamObjective = {
  id: string;
  domain: string;
  weight: number; // Percentage weight in exam
  topics: string[];
};

export type ExamMetadata = {
  vendor_url?: string;
  prerequisites?: string[];
  recertification?: number; // months
  languages?: string[];
};

export type QuestionStats = {
  timesAnswered: number;
  correctRate: number;
  averageTime: number;
  difficultyScore: number; // Calculated from user performance
};

export type SessionMetadata = {
  objectives?: string[];
  difficulty?: number;
  questionsPerObjective?: Record<string, number>;
  clientInfo?: {
    userAgent: string;
    ip?: string;
  };
};

export type WeakArea = {
  objectiveId: string;
  domain: string;
  correctRate: number;
  questionsAnswered: number;
};

export const tables = {
  users,
  exams,
  questions,
  answerOptions,
  studySessions,
  userAnswers,
  userProgress,
  bookmarks,
  feedback,
};

export const SYSTEM = 'pingtopass' as const;
