import { isUtf8 } from 'node:buffer';
import type { InValue } from '@libsql/client';
import { QbankError } from '../../errors.js';
import { quoteIdent } from '../client.js';
import { garbageBudget } from './memory.js';
import type { PageRenderer, RenderedPage } from './renderer.js';
import { isTooBig, pageNeedsSlowForm, pageQueries, parsePage, type Page, type PageQuery, type TablePlan } from './row-sql.js';
import type { Snapshot } from './snapshot.js';

/** Pages a renderer has queued or in hand: one to render while the last one travels. */
const PAGES_AHEAD = 2;

export interface TableReaderOptions {
  snapshot: Snapshot;
  sqliteVersion: string;
  remote: boolean;
  /** Target size of one page of rows. */
  pageBytes?: number;
  /** Threads with their own read connections (none, or two). */
  renderers: PageRenderer[];
  /** Tables with this many rows or more are handed to the renderers. */
  parallelMinRows: number;
  /** Writes dump text in order (`prefixBytes` >= 0: a page of rows whose INSERT prefix is that long). */
  emit: (chunk: string | Buffer, prefixBytes?: number) => Promise<void>;
  onProgress: (progress: { table: string; rowsDone: number; rowsTotal: number }) => void;
}

/**
 * Reads a table's rows as INSERT lines inside the dump's snapshot: pages by keyset, sized by the
 * rows' bytes; a page too big for one response is asked again smaller; a page the fast form would
 * get wrong is read again exactly; big tables of `file:` databases go to the renderers.
 */
export class TableReader {
  /** Queries that read rows (one per page). */
  pages = 0;
  /** Pages the renderers rendered. */
  rendererPages = 0;
  private readonly query: (table: TablePlan, form: 'fast' | 'exact' | 'hex-text', hasAfter: boolean) => PageQuery;
  private readonly pageBytes: number;
  private readonly maxRows: number;
  private readonly memory: { add: (bytes: number) => void };

  constructor(private readonly options: TableReaderOptions) {
    this.query = pageQueries(options.sqliteVersion);
    this.pageBytes = options.pageBytes ?? (options.remote ? 2 << 20 : 1 << 20);
    this.maxRows = options.remote ? 20_000 : 100_000;
    this.memory = garbageBudget(options.remote ? 4 << 20 : 32 << 20);
  }

  /** Every row of `plan`, written through `emit`; the rows read must be the rows counted in the same snapshot. */
  async readTable(plan: TablePlan): Promise<void> {
    const { options } = this;
    let done = 0;
    const emitLines = async (text: Buffer, rows: number, prefixBytes = -1) => {
      this.memory.add(text.length);
      await options.emit(text, prefixBytes);
      await options.emit('\n');
      done += rows;
      options.onProgress({ table: plan.name, rowsDone: done, rowsTotal: plan.rows });
    };
    const emitPage = (page: Page) => emitLines(page.text, page.rows, page.prefixBytes);
    let after: InValue[] | undefined;
    let limit = options.remote ? 100 : 1_000;
    options.onProgress({ table: plan.name, rowsDone: 0, rowsTotal: plan.rows });
    for (;;) {
      let page;
      ({ page, limit } = await this.readFitting(plan, after, limit));
      this.pages++;
      if (page.rows === 0) break;
      page = await this.exactPage(plan, after, page);
      const average = Math.max(1, page.text.length / page.rows);
      await emitPage(page);
      after = page.last;
      if (page.rows < limit) break;
      limit = Math.max(1, Math.min(this.maxRows, Math.floor(this.pageBytes / average)));
      if (options.renderers.length > 0 && plan.rowid && plan.rows >= options.parallelMinRows && plan.rows - done >= 2 * limit) {
        this.pages += await this.readByRenderers(plan, after, limit, emitPage, emitLines);
        break;
      }
    }
    if (done !== plan.rows) {
      throw new QbankError(`table ${plan.name}: counted ${plan.rows} rows but read ${done} in the same transaction; the dump is not consistent`);
    }
  }

  private async readPage(plan: TablePlan, after: InValue[] | undefined, limit: number, form: 'fast' | 'exact' | 'hex-text'): Promise<Page> {
    const { sql, prefixBytes } = this.query(plan, form, after !== undefined);
    return parsePage(plan, await this.options.snapshot.one(sql, [...(after ?? []), limit]), prefixBytes);
  }

  /** A page of at most `limit` rows; one too big for a single response is asked again with a quarter of the rows. */
  private async readFitting(plan: TablePlan, after: InValue[] | undefined, limit: number): Promise<{ page: Page; limit: number }> {
    for (;;) {
      try {
        return { page: await this.readPage(plan, after, limit, 'fast'), limit };
      } catch (error) {
        if (!isTooBig(error)) throw error;
        if (limit <= 1) throw new QbankError(`table ${plan.name}: a single row is too large to read in one response`, { cause: error });
        limit = Math.max(1, limit >> 2);
      }
    }
  }

  /** Same keyset bounds in the same transaction give the same rows: read them again, exactly. */
  private async exactPage(plan: TablePlan, after: InValue[] | undefined, page: Page): Promise<Page> {
    let form = page.rendered < page.rows ? 'exact' : pageNeedsSlowForm(page);
    while (form) {
      const exact = await this.readPage(plan, after, page.rows, form);
      this.pages++;
      if (exact.rows !== page.rows || exact.rendered !== exact.rows) throw new QbankError(`table ${plan.name}: a page read twice in one transaction changed`);
      page = exact;
      form = form === 'exact' && !isUtf8(page.text) ? 'hex-text' : undefined;
    }
    return page;
  }

  /**
   * The rest of a table after `start`, rendered by the renderers in turn while this thread
   * only writes what they send back, in order. Each page is the next `width` rows after a key;
   * this connection finds the key that ends it (a short walk over the keys) before the page is
   * handed out, so every page's row count is known here and checked against the renderer's.
   * The width follows the size of the rows, as on one connection. A page a renderer cannot
   * write exactly, or that is too big for it, is read again here.
   */
  private async readByRenderers(
    plan: TablePlan,
    start: InValue[],
    firstWidth: number,
    emitPage: (page: Page) => Promise<void>,
    emitLines: (text: Buffer, rows: number) => Promise<void>,
  ): Promise<number> {
    const { renderers, snapshot } = this.options;
    const key = plan.key[0]!;
    const endOfPage = `SELECT ${key} FROM ${quoteIdent(plan.name)} WHERE ${key} > ? ORDER BY ${key} LIMIT 1 OFFSET ?`;
    const { sql, prefixBytes } = this.query(plan, 'fast', true);
    interface Scheduled {
      after: InValue;
      width: number;
      /** `width` when a key ends the page; undefined for the table's last page, which has fewer rows. */
      rows: number | undefined;
      result: Promise<RenderedPage>;
    }
    const queue: Scheduled[] = [];
    let next: InValue | undefined = start[0];
    let width = firstWidth;
    let turn = 0;
    let reads = 0;
    const schedule = async () => {
      if (next === undefined) return;
      const after = next;
      const [ends] = await snapshot.batch([{ sql: endOfPage, args: [after, width - 1] }]);
      const end = ends![0]?.[0] as InValue | undefined;
      const result = renderers[turn++ % renderers.length]!.render(sql, [after, width], prefixBytes);
      result.catch(() => undefined);
      queue.push({ after, width, rows: end === undefined ? undefined : width, result });
      next = end;
    };
    for (let i = 0; i < PAGES_AHEAD * renderers.length; i++) await schedule();
    while (queue.length > 0) {
      const page = queue.shift()!;
      let rendered: RenderedPage | undefined;
      try {
        rendered = await page.result;
      } catch (error) {
        if (!isTooBig(error)) throw error;
      }
      reads++;
      if (rendered && (page.rows === undefined ? rendered.rows >= page.width : rendered.rows !== page.rows)) {
        throw new QbankError(`table ${plan.name}: the dump's connections read different rows; the dump is not consistent`);
      }
      if (rendered?.lines) {
        this.rendererPages++;
        // sized before the lines move on to the pipeline, which takes their memory
        if (rendered.rows > 0) width = Math.max(1, Math.min(this.maxRows, Math.floor(this.pageBytes / Math.max(1, rendered.lines.length / rendered.rows))));
        await emitLines(rendered.lines, rendered.rows);
      } else if (!rendered || rendered.rows > 0) {
        if (!rendered) width = Math.max(1, width >> 2);
        reads += await this.readRowsHere(plan, page.after, rendered?.rows ?? page.rows, emitPage);
      }
      await schedule();
    }
    return reads;
  }

  /** `rows` rows after `after` (all that are left when undefined), read on this connection in pages that shrink when one is too big. */
  private async readRowsHere(plan: TablePlan, after: InValue, rows: number | undefined, emitPage: (page: Page) => Promise<void>): Promise<number> {
    let cursor: InValue[] = [after];
    let left = rows ?? Number.POSITIVE_INFINITY;
    let limit = Math.min(left, 1_000);
    let reads = 0;
    while (left > 0) {
      let page;
      ({ page, limit } = await this.readFitting(plan, cursor, Math.min(limit, left)));
      reads++;
      const full = page.rows === limit;
      if (page.rows > 0) {
        page = await this.exactPage(plan, cursor, page);
        await emitPage(page);
        left -= page.rows;
        cursor = page.last;
      }
      if (!full) break;
    }
    if (rows !== undefined && left !== 0) throw new QbankError(`table ${plan.name}: a page read twice in one transaction changed`);
    return reads;
  }
}
