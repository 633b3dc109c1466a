import type { FieldKind } from '../import/fields.js';
import type { ColumnSpec } from '../import/records.js';

/**
 * The import's columns, name and kind, in the import's order: what each export writes. The lists
 * are the import's own (`PINGTOPASS_QUESTION_COLUMNS` … in `src/db/import`, held equal by
 * test/export-columns.test.ts); they are written out here because the modules that hold them load
 * the import's validation (zod, the Drizzle schema), a tenth of the CPU time of a 200,000-question
 * export that never validates anything.
 */

/** `name:kind` words, in order. */
function columns(words: string): ColumnSpec[] {
  return words
    .trim()
    .split(/\s+/)
    .map((word) => {
      const [name, kind] = word.split(':');
      return { name, kind: kind as FieldKind };
    });
}

export const PINGTOPASS_QUESTION_COLUMNS = columns(`
  id:text exam_code:text type:enum text:text option_a:text option_b:text option_c:text option_d:text option_e:text option_f:text
  options:list correct:text explanation:text difficulty:int objective_id:text tags:list reference_url:text exhibit_url:text
  review_status:enum reviewed_by:text is_active:bool ai_generated:bool ai_model:text`);

export const PINGTOPASS_EXAM_COLUMNS = columns(`
  id:text code:text name:text vendor:text category:text passing_score:int total_questions:int time_limit:int price:number description:text`);

export const OPEN_INTERVIEW_QUESTION_COLUMNS = columns(`
  id:text question:text answer:text explanation:text difficulty:enum channel:text sub_channel:text tags:list companies:list
  diagram:text source_url:text eli5:text tldr:text videos:json relevance_score:int relevance_details:json job_title_relevance:json
  experience_level_tags:list voice_keywords:list voice_suitable:bool status:enum is_new:bool last_updated:timestamp created_at:timestamp`);

export const OPEN_INTERVIEW_CERTIFICATION_COLUMNS = columns(`
  id:text name:text provider:text description:text icon:text color:text difficulty:enum category:text estimated_hours:int
  exam_code:text official_url:text domains:json channel_mappings:json tags:list prerequisites:list status:enum question_count:int
  passing_score:int exam_duration:int created_at:timestamp last_updated:timestamp`);
