import { Injectable } from '@nestjs/common';
import { HomeSources, type ActionItem, type HomeViewer } from '../common/home-sources.js';
import { ageOf } from '../web/age.js';
import { chartIsEmpty, chartLegend, chartSvg, chartTable } from './charts.js';

export interface HomeItem extends ActionItem {
  age: string;
}

export interface HomeSection {
  key: string;
  heading: string;
  empty: string;
  items: HomeItem[];
}

/** Collects the sections every feature registered; oldest waiting first within a section. */
@Injectable()
export class StaffHomeService {
  constructor(private readonly sources: HomeSources) {}

  async sections(viewer: HomeViewer, now: Date): Promise<HomeSection[]> {
    return Promise.all(
      this.sources.sectionSources().map(async (s) => ({
        key: s.key,
        heading: s.heading,
        empty: s.empty,
        items: (await s.items(viewer, now)).sort((a, b) => a.since.getTime() - b.since.getTime()).map((i) => ({ ...i, age: ageOf(i.since, now) })),
      })),
    );
  }

  /** What waits for this reviewer's review or approval (the digest's content). */
  async forReview(viewer: HomeViewer, now: Date): Promise<ActionItem[]> {
    const all = await Promise.all(this.sources.sectionSources().map((s) => s.items(viewer, now)));
    return all
      .flat()
      .filter((i) => i.forReview)
      .sort((a, b) => a.since.getTime() - b.since.getTime());
  }

  async charts(now: Date) {
    return Promise.all(
      this.sources.chartSources().map(async (c) => {
        const data = await c.data(now);
        const labelId = `chart-${c.key}`;
        return {
          key: c.key,
          title: c.title,
          description: c.description,
          labelId,
          empty: chartIsEmpty(data),
          svg: chartSvg(data, labelId),
          legend: chartLegend(data),
          table: chartTable(data),
        };
      }),
    );
  }
}
