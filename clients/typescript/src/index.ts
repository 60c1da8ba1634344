// The Drop Shop REST API as a typed fetch client: paths, parameters, bodies and answers come from
// src/schema.d.ts, which `make client` generates from docs/openapi.json (never edit it by hand).
import createFetchClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths };
export type Product = components["schemas"]["Product"];
export type ErrorBody = components["schemas"]["ErrorBody"];

/** A client for one deployment (or `make local`): `baseUrl` is the API's URL, `idToken` a Cognito ID token. */
export function createClient(baseUrl: string, idToken?: string, options: ClientOptions = {}): Client<paths> {
  const headers: Record<string, string> = idToken ? { Authorization: `Bearer ${idToken}` } : {};
  return createFetchClient<paths>({ ...options, baseUrl, headers: { ...headers, ...(options.headers as object) } });
}
