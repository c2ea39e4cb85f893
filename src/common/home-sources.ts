import { Injectable } from '@nestjs/common';

/** Who is looking: what "mine" means depends on it (the four-eyes rules). */
export interface HomeViewer {
  staffId: string;
  role: 'viewer' | 'reviewer' | 'admin';
}

/** One thing that waits for someone on staff, with when it started waiting and where to act on it. */
export interface ActionItem {
  /** Stable per waiting thing (e.g. `request:<id>:approve`), for digests that list only new ones. */
  key: string;
  title: string;
  detail?: string;
  href: string;
  since: Date;
  /** Waits for this viewer's approval or review (goes into the reviewer digest), not only for attention. */
  forReview?: boolean;
}

/**
 * A section of the staff home, made by the feature that owns the data (through its own repository) and
 * registered at module init. The home and the reviewer digest know only this interface.
 */
export interface ActionSectionSource {
  key: string;
  heading: string;
  /** Sections are shown in this order (low first). */
  order: number;
  /** Shown when the section is empty. */
  empty: string;
  items(viewer: HomeViewer, now: Date): Promise<ActionItem[]>;
}

/** Data of one overview chart, produced by the owning feature and drawn by the console. */
export type ChartData =
  | { kind: 'stacked-bars'; categories: string[]; series: Array<{ name: string; cssClass: string; values: number[] }>; unit: string }
  | { kind: 'bars'; categories: string[]; values: Array<number | null>; unit: string }
  | { kind: 'timeline'; start: Date; days: number; events: Array<{ at: Date; label: string }> };

export interface ChartSource {
  key: string;
  title: string;
  description: string;
  order: number;
  data(now: Date): Promise<ChartData>;
}

@Injectable()
export class HomeSources {
  private readonly sections: ActionSectionSource[] = [];
  private readonly charts: ChartSource[] = [];

  addSection(source: ActionSectionSource): void {
    if (this.sections.some((s) => s.key === source.key)) throw new Error(`home section "${source.key}" is already registered`);
    this.sections.push(source);
    this.sections.sort((a, b) => a.order - b.order);
  }

  addChart(source: ChartSource): void {
    if (this.charts.some((s) => s.key === source.key)) throw new Error(`chart "${source.key}" is already registered`);
    this.charts.push(source);
    this.charts.sort((a, b) => a.order - b.order);
  }

  sectionSources(): readonly ActionSectionSource[] {
    return this.sections;
  }

  chartSources(): readonly ChartSource[] {
    return this.charts;
  }
}
