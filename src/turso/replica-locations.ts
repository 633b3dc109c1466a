import { InvalidInputError, RefusedError } from '../errors.js';
import { PlatformApiError, type Database, type PlatformApi } from './platform-api.js';
import { describePlatformError } from './platform-errors.js';

/*
 * Replicas of a database on Turso are the locations of its group: adding a location to the group
 * starts a replica of every database of the group there, removing one stops them. The Platform API
 * marks group locations as deprecated: Turso no longer offers edge replicas to new users.
 */

export const EDGE_REPLICAS_NOTE =
  'group locations (edge replicas) are deprecated in the Turso Platform API: new users cannot add them; ' +
  'embedded replicas (a local file synced from the primary) are the supported way to read close to the application';

export interface LocationChange {
  database: string;
  group: string;
  location: string;
  action: 'add' | 'remove';
  /** False when the group was already as asked (the location there, or not there). */
  changed: boolean;
  primary: string | null;
  locations: string[];
  note: string;
}

export async function changeReplicaLocation(
  api: PlatformApi,
  request: { database: Database; location: string; action: 'add' | 'remove' },
): Promise<LocationChange> {
  const { database, location, action } = request;
  const groupName = database.group;
  if (!groupName) {
    throw new RefusedError(`database "${database.Name}" belongs to no group, and only a group's locations can be changed through the Platform API`, {
      hint: 'databases outside a group are replicated with the turso CLI (`turso db replicate`)',
    });
  }
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof PlatformApiError && error.status === 400) {
        throw new InvalidInputError(`cannot ${action} location "${location}" ${action === 'add' ? 'to' : 'from'} group "${groupName}": ${error.serverMessage ?? error.message}`, {
          hint: action === 'add' ? 'location codes look like aws-us-east-1; the Platform API lists them at GET /v1/locations' : undefined,
          cause: error,
        });
      }
      throw describePlatformError(error);
    }
  };
  const before = await call(() => api.getGroup(groupName));
  const present = (before.locations ?? []).includes(location);
  const wanted = action === 'add';
  const after = present === wanted ? before : await call(() => (wanted ? api.addGroupLocation(groupName, location) : api.removeGroupLocation(groupName, location)));
  return {
    database: database.Name,
    group: groupName,
    location,
    action,
    changed: present !== wanted,
    primary: after.primary ?? null,
    locations: after.locations ?? [],
    note: EDGE_REPLICAS_NOTE,
  };
}
