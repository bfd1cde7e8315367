export * from "npm:@logtape/logtape@^2.4.2";
export { validate as validateUuid, version as uuidVersion } from "npm:uuid@^14.0.3";
