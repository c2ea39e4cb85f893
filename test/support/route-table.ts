import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRequire } from 'node:module';
import { PUBLIC_ROUTE, REQUIRED_ROLE, SKIP_CSRF } from '../../src/common/auth.decorators.js';
import type { StaffRole } from '../../src/generated/prisma/enums.js';

export interface RouteEntry {
  /** `GET`, `POST`, ... (HEAD routes that Fastify adds beside GET are left out). */
  method: string;
  /** Fastify's path syntax: `/oauth/:env/token`, `/assets/*`. */
  path: string;
  /** `nest` for controller handlers (the global StaffAuthGuard runs), `plugin` for Fastify plugins (static files, Swagger UI). */
  source: 'nest' | 'plugin';
  isPublic: boolean;
  role?: StaffRole;
  skipCsrf: boolean;
  /** `Controller.handler`, for messages. */
  handler?: string;
}

export const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

const require = createRequire(import.meta.url);
const registered: Array<{ method: string; path: string }> = [];
let recording = false;

/**
 * Fastify keeps no readable list of its routes (`printRoutes` is a lossy tree), so every route added to
 * its router (find-my-way) is recorded here. Must run before the app is created: call it at the top of a
 * test file, before `startTestApp()`.
 */
export function recordFastifyRoutes(): void {
  if (recording) return;
  recording = true;
  const Router = require(require.resolve('find-my-way', { paths: [require.resolve('fastify')] })) as {
    prototype: { on: (method: string | string[], path: string, ...rest: unknown[]) => unknown };
  };
  const original = Router.prototype.on;
  Router.prototype.on = function (this: unknown, method: string | string[], path: string, ...rest: unknown[]) {
    for (const m of Array.isArray(method) ? method : [method]) registered.push({ method: m.toUpperCase(), path });
    return original.call(this, method, path, ...rest);
  };
}

function joinPath(...parts: string[]): string {
  const joined =
    '/' +
    parts
      .map((p) => p.replace(/^\/+|\/+$/g, ''))
      .filter(Boolean)
      .join('/');
  return joined;
}

/** Every controller handler Nest registered, with the auth metadata the global guard reads. */
export function nestRoutes(app: NestFastifyApplication): RouteEntry[] {
  const modules = app.get(ModulesContainer);
  const reflector = app.get(Reflector);
  const scanner = new MetadataScanner();
  const out: RouteEntry[] = [];
  const seen = new Set<unknown>();
  for (const mod of modules.values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: unknown[]) => unknown) | undefined;
      if (!ctrl || seen.has(ctrl)) continue;
      seen.add(ctrl);
      const ctrlPaths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, ctrl) ?? '/');
      for (const name of scanner.getAllMethodNames(ctrl.prototype)) {
        const fn = (ctrl.prototype as Record<string, unknown>)[name] as (...a: unknown[]) => unknown;
        const methodPath = Reflect.getMetadata(PATH_METADATA, fn) as string | string[] | undefined;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
        if (methodPath === undefined || requestMethod === undefined) continue;
        const targets = [fn, ctrl];
        const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true;
        const role = reflector.getAllAndOverride<StaffRole | undefined>(REQUIRED_ROLE, targets);
        const skipCsrf = reflector.getAllAndOverride<boolean>(SKIP_CSRF, targets) === true;
        const methods = requestMethod === RequestMethod.ALL ? ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] : [RequestMethod[requestMethod]];
        for (const cp of ctrlPaths) {
          for (const mp of ([] as string[]).concat(methodPath)) {
            for (const method of methods) {
              out.push({ method, path: joinPath(cp, mp), source: 'nest', isPublic, role, skipCsrf, handler: `${ctrl.name}.${name}` });
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * The whole route table: Nest's controller routes plus whatever Fastify plugins registered (Swagger UI,
 * static assets). Needs `recordFastifyRoutes()` to have run before the app was built.
 */
export function routeTable(app: NestFastifyApplication): RouteEntry[] {
  if (!recording) throw new Error('call recordFastifyRoutes() before the app is created');
  const nest = nestRoutes(app);
  const nestKeys = new Set(nest.map(routeKey));
  const fastify = app.getHttpAdapter().getInstance();
  const plugin = new Map<string, RouteEntry>();
  for (const r of registered) {
    if (r.method === 'HEAD' && registered.some((g) => g.method === 'GET' && g.path === r.path)) continue;
    const key = routeKey(r);
    if (nestKeys.has(key) || plugin.has(key)) continue;
    // Recorded routes from other apps in this process (a second instance) still count once; only keep live ones.
    if (!fastify.hasRoute({ method: r.method, url: r.path })) continue;
    plugin.set(key, { method: r.method, path: r.path, source: 'plugin', isPublic: true, skipCsrf: false });
  }
  for (const r of nest) {
    if (!fastify.hasRoute({ method: r.method, url: r.path })) {
      throw new Error(`Nest route ${routeKey(r)} (${r.handler}) is not in Fastify's router: the route table helper is out of step`);
    }
  }
  return [...nest, ...plugin.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** Replaces `:params` and `*` with a value so the route can be called. */
export function concretePath(path: string, value: (param: string) => string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_, p: string) => encodeURIComponent(value(p))).replace(/\*$/, encodeURIComponent(value('*')));
}
