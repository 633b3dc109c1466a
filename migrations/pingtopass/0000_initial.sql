CREATE TABLE `answer_options` (
	`id` text PRIMARY KEY NOT NULL,
	`question_id` text NOT NULL,
	`text` text NOT NULL,
	`is_correct` integer NOT NULL,
	`explanation` text,
	`order` integer DEFAULT 0 NOT NULL,
	`created_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`question_id`) REFERENCES `questions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `answer_options_question_idx` ON `answer_options` (`question_id`);--> statement-breakpoint
CREATE INDEX `answer_options_question_order_idx` ON `answer_options` (`question_id`,`order`);--> statement-breakpoint
CREATE TABLE `bookmarks` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`question_id` text NOT NULL,
	`note` text,
	`created_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`question_id`) REFERENCES `questions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bookmarks_user_question_idx` ON `bookmarks` (`user_id`,`question_id`);--> statement-breakpoint
CREATE INDEX `bookmarks_user_idx` ON `bookmarks` (`user_id`);--> statement-breakpoint
CREATE TABLE `exams` (
	`id` text PRIMARY KEY NOT NULL,
	`code` text NOT NULL,
	`name` text NOT NULL,
	`vendor` text NOT NULL,
	`category` text NOT NULL,
	`description` text,
	`objectives` text,
	`passing_score` integer NOT NULL,
	`total_questions` integer NOT NULL,
	`time_limit` integer,
	`price` real,
	`retire_date` integer,
	`is_active` integer DEFAULT true,
	`is_beta` integer DEFAULT false,
	`metadata` text,
	`created_at` integer DEFAULT (unixepoch()),
	`updated_at` integer DEFAULT (unixepoch())
);
--> statement-breakpoint
CREATE UNIQUE INDEX `exams_code_unique` ON `exams` (`code`);--> statement-breakpoint
CREATE UNIQUE INDEX `exams_code_idx` ON `exams` (`code`);--> statement-breakpoint
CREATE INDEX `exams_vendor_idx` ON `exams` (`vendor`);--> statement-breakpoint
CREATE INDEX `exams_category_idx` ON `exams` (`category`);--> statement-breakpoint
CREATE INDEX `exams_active_idx` ON `exams` (`is_active`);--> statement-breakpoint
CREATE TABLE `feedback` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`question_id` text,
	`type` text NOT NULL,
	`message` text NOT NULL,
	`status` text DEFAULT 'pending',
	`response` text,
	`created_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`question_id`) REFERENCES `questions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `feedback_status_idx` ON `feedback` (`status`);--> statement-breakpoint
CREATE INDEX `feedback_question_idx` ON `feedback` (`question_id`);--> statement-breakpoint
CREATE TABLE `questions` (
	`id` text PRIMARY KEY NOT NULL,
	`exam_id` text NOT NULL,
	`type` text NOT NULL,
	`text` text NOT NULL,
	`explanation` text,
	`reference_url` text,
	`difficulty` integer NOT NULL,
	`objective_id` text,
	`tags` text,
	`exhibit_url` text,
	`simulation_data` text,
	`is_active` integer DEFAULT true,
	`ai_generated` integer DEFAULT false,
	`ai_model` text,
	`review_status` text DEFAULT 'pending',
	`reviewed_by` text,
	`reviewed_at` integer,
	`statistics` text,
	`created_at` integer DEFAULT (unixepoch()),
	`updated_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`exam_id`) REFERENCES `exams`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `questions_exam_idx` ON `questions` (`exam_id`);--> statement-breakpoint
CREATE INDEX `questions_exam_objective_idx` ON `questions` (`exam_id`,`objective_id`);--> statement-breakpoint
CREATE INDEX `questions_difficulty_idx` ON `questions` (`exam_id`,`difficulty`);--> statement-breakpoint
CREATE INDEX `questions_active_idx` ON `questions` (`is_active`);--> statement-breakpoint
CREATE INDEX `questions_review_status_idx` ON `questions` (`review_status`);--> statement-breakpoint
CREATE TABLE `study_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`exam_id` text NOT NULL,
	`mode` text NOT NULL,
	`total_questions` integer NOT NULL,
	`answered_questions` integer DEFAULT 0,
	`correct_answers` integer DEFAULT 0,
	`time_limit` integer,
	`time_spent` integer,
	`score` real,
	`passed` integer,
	`completed_at` integer,
	`metadata` text,
	`created_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`exam_id`) REFERENCES `exams`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `study_sessions_user_idx` ON `study_sessions` (`user_id`);--> statement-breakpoint
CREATE INDEX `study_sessions_user_exam_idx` ON `study_sessions` (`user_id`,`exam_id`);--> statement-breakpoint
CREATE INDEX `study_sessions_mode_idx` ON `study_sessions` (`mode`);--> statement-breakpoint
CREATE INDEX `study_sessions_completed_idx` ON `study_sessions` (`completed_at`);--> statement-breakpoint
CREATE TABLE `user_answers` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`question_id` text NOT NULL,
	`selected_options` text NOT NULL,
	`is_correct` integer NOT NULL,
	`is_marked` integer DEFAULT false,
	`time_spent` integer,
	`confidence` integer,
	`created_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`session_id`) REFERENCES `study_sessions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`question_id`) REFERENCES `questions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `user_answers_session_idx` ON `user_answers` (`session_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `user_answers_session_question_idx` ON `user_answers` (`session_id`,`question_id`);--> statement-breakpoint
CREATE INDEX `user_answers_correct_idx` ON `user_answers` (`is_correct`);--> statement-breakpoint
CREATE TABLE `user_progress` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`exam_id` text NOT NULL,
	`total_sessions` integer DEFAULT 0,
	`questions_answered` integer DEFAULT 0,
	`correct_answers` integer DEFAULT 0,
	`average_score` real,
	`best_score` real,
	`weak_areas` text,
	`strong_areas` text,
	`study_streak` integer DEFAULT 0,
	`total_time_spent` integer DEFAULT 0,
	`last_activity_at` integer,
	`ready_for_exam` integer DEFAULT false,
	`created_at` integer DEFAULT (unixepoch()),
	`updated_at` integer DEFAULT (unixepoch()),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`exam_id`) REFERENCES `exams`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `user_progress_user_exam_idx` ON `user_progress` (`user_id`,`exam_id`);--> statement-breakpoint
CREATE INDEX `user_progress_last_activity_idx` ON `user_progress` (`last_activity_at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`name` text,
	`google_id` text,
	`avatar_url` text,
	`stripe_customer_id` text,
	`subscription_tier` text DEFAULT 'free',
	`subscription_status` text,
	`trial_ends_at` integer,
	`credits` integer DEFAULT 0,
	`settings` text,
	`last_login_at` integer,
	`created_at` integer DEFAULT (unixepoch()),
	`updated_at` integer DEFAULT (unixepoch())
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_google_id_unique` ON `users` (`google_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_stripe_customer_id_unique` ON `users` (`stripe_customer_id`);--> statement-breakpoint
CREATE INDEX `users_email_idx` ON `users` (`email`);--> statement-breakpoint
CREATE INDEX `users_google_id_idx` ON `users` (`google_id`);--> statement-breakpoint
CREATE INDEX `users_stripe_customer_idx` ON `users` (`stripe_customer_id`);