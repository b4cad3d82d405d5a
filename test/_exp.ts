import { documentedSchemas } from "../src/domain/wireSchemas.js"
console.log(JSON.stringify(documentedSchemas().task, null, 1))
