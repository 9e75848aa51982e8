import type { ConfigEditorApi } from '../../service/config-editor.js';
import { ExclusionBody, parseOr400, RootBody, SettingsBody, type Route } from '../contract.js';

/**
 * The folders Owlet indexes and the settings the dashboard may change (service/config-editor.ts
 * validates, saves, audits and applies):
 *   GET  /api/v1/roots                 folders, exclusions, suggested folders (first run)
 *   POST /api/v1/roots                 {"path"} add a folder (validated; a scan starts)
 *   POST /api/v1/roots/remove          {"path"} stop indexing a folder
 *   POST /api/v1/exclusions            {"pattern"} exclude a name or pattern
 *   POST /api/v1/exclusions/remove     {"pattern"}
 *   GET  /api/v1/settings              the editable settings, with policy locks
 *   POST /api/v1/settings              {"changes": {"key": value}} validated against the config schema
 */
export function configRoutes(editor: ConfigEditorApi): Route[] {
  return [
    { method: 'GET', url: '/api/v1/roots', access: 'authenticated', handler: async () => editor.roots() },
    {
      method: 'POST',
      url: '/api/v1/roots',
      access: 'authenticated',
      rateLimited: true,
      handler: async (req, reply) => reply.code(201).send(await editor.addRoot(parseOr400(RootBody, req.body).path)),
    },
    { method: 'POST', url: '/api/v1/roots/remove', access: 'authenticated', handler: async (req) => editor.removeRoot(parseOr400(RootBody, req.body).path) },
    { method: 'POST', url: '/api/v1/exclusions', access: 'authenticated', handler: async (req) => editor.addExclusion(parseOr400(ExclusionBody, req.body).pattern) },
    { method: 'POST', url: '/api/v1/exclusions/remove', access: 'authenticated', handler: async (req) => editor.removeExclusion(parseOr400(ExclusionBody, req.body).pattern) },
    { method: 'GET', url: '/api/v1/settings', access: 'authenticated', handler: async () => ({ settings: editor.settings() }) },
    { method: 'POST', url: '/api/v1/settings', access: 'authenticated', handler: async (req) => editor.change(parseOr400(SettingsBody, req.body).changes) },
  ];
}
