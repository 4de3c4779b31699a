#!lua name=claimsd
--
-- claimsd_apply: apply one partition batch atomically (design.md section
-- 2.1, docs/design-notes.md, docs/netting.md, docs/quality.md).
--
-- The offset fence runs first, and every write is deferred to the end: a
-- rejected batch, or a Lua error, writes nothing. Reads inside the loop see
-- the batch's own earlier effects through per-batch caches (claim states,
-- attribution, measure counts, stays) or by merging the pending increments
-- (a beneficiary's ledger read for a re-attribution).
--
--   KEYS[1]  <prefix>offset
--   ARGV     prefix, topic/partition, from, to, watermark ('' = none), n,
--            one msgpack array of n messages, the measure table.
--   Messages (integers as msgpack integers, the rest strings):
--     C off claimkey version_h digest rank adj bene_h recv_yyyymm
--       tin1 tin2 npi1 npi2 blob nb {year month suffix paid allowed cnt}*nb
--       (tinN/npiN are participant fields 'tin:<TIN>'/'npi:<NPI>', or '')
--       qyear quality stay
--     D off reason
--     M
--     A bene_h year value off as_of   (value '' removes the year's record)
--     P aco year text   (an ACO parameter set from the registry topic,
--       validated and rendered by the daemon: stored exactly as claimsctl
--       load-acos stores it, in aco:<id>:params, payparams and acos)
--   Measure table: 'id:year_from:year_to:age_min:age_max:sex;...' (-1 = no
--   bound, sex '*', 'F' or 'M').
--
-- A claim's quality is its measure roles for performance year qyear, four
-- digits per measure definition it plays a role in: the definition's
-- 0-based index in the measure table (three digits) and its role bits (one
-- digit: d 1, n 2, x 4), e.g. '0051' + '0123' (claim states written before
-- this encoding hold 'id:dnx;...' and are still read). Its stay is
-- 'adm_day,dis_day,adm_year,dis_year,flags' (flags a subset of 't'
-- transfer, 'x' died or left against advice, 'p' planned) for inpatient
-- claims, '' otherwise.
--
-- Keys (docs/redis-keys.md): counters aco:<id>:exp:<y>, unattributed:<y>,
-- aco:<id>:pop:<y>, aco:<id>:quality:<y>; per beneficiary the ledger
-- led:<y>:<bene_h>, the measure counts (field bene_h of qb:<y>, a msgpack
-- array of index, d, n, x per definition; q:<y> fields 'bene_h:id' =
-- 'd,n,x' are read for beneficiaries qb:<y> lacks) and the stays
-- stays:<bene_h>; attribution bene:<y>
-- (value 'ACO:E:mask:optout:birth_year:sex'); claim:<hash> states
-- 'rank(55)|vh(32)|digest(32)|adj|fallbacks|blob|qyear|quality|stay|hist' where
-- fallbacks lists, per bucket, the participant-fallback ACO ('' none) and
-- blob is 'year,MM,TT,paid,allowed,cnt;...', and hist lists the last 8
-- applied versions as 'topic/partition/offset,vh(8),adj;...'.
--
-- Returns {1, to, applied, duplicate, stale, dead_letter, unattributed,
-- conflict offsets...} on success or {0, stored_offset} when the fence
-- rejects the batch.
--
-- Amounts are Lua doubles: exact below 2^53. The decoder bounds every amount
-- (limits.max_claim_cents) and batches are at most 5,000 messages, so sums
-- stay exact; increments are formatted with %d, never tostring().

local function split(s, sep)
    local out = {}
    local start = 1
    while true do
        local at = string.find(s, sep, start, true)
        if not at then
            out[#out + 1] = string.sub(s, start)
            return out
        end
        out[#out + 1] = string.sub(s, start, at - 1)
        start = at + 1
    end
end

-- t[k], created empty on first use (the nested caches below).
local function child(t, k)
    local v = t[k]
    if not v then
        v = {}
        t[k] = v
    end
    return v
end

local function bit(mask, month)
    return math.floor(mask / 2 ^ (month - 1)) % 2 == 1
end

local function popcount(mask)
    local c = 0
    for month = 1, 12 do
        if bit(mask, month) then
            c = c + 1
        end
    end
    return c
end

-- The measure table as a list of definitions in table order: a claim's
-- roles name a definition by its position. The counter field names are
-- made here, once per call.
local function parse_measures(s)
    local t = {}
    if not s or s == '' then
        return t
    end
    for item in string.gmatch(s, '[^;]+') do
        local f = split(item, ':')
        t[#t + 1] = {id = f[1], from = tonumber(f[2]), to = tonumber(f[3]),
            amin = tonumber(f[4]), amax = tonumber(f[5]), sex = f[6],
            den = f[1] .. ':den', num = f[1] .. ':num', excl = f[1] .. ':excl'}
    end
    return t
end

local function stay_less(a, b)
    if a[1] ~= b[1] then
        return a[1] < b[1]
    end
    if a[2] ~= b[2] then
        return a[2] < b[2]
    end
    return a[5] < b[5]
end

-- Outcome figures per year of one beneficiary's stays (docs/quality.md 4):
-- year -> {index, readmitted, admissions}.
local function outcomes(stays)
    local l = {}
    for _, s in pairs(stays) do
        l[#l + 1] = s
    end
    if #l == 1 then
        -- Most beneficiaries have one stay: one episode, never readmitted.
        local s, out = l[1], {}
        if not s.p then
            out[s[3]] = {0, 0, 1}
        end
        if not s.t and not s.x then
            local v = out[s[4]]
            if v then
                v[1] = 1
            else
                out[s[4]] = {1, 0, 0}
            end
        end
        return out
    end
    table.sort(l, stay_less)
    local eps = {}
    local cur
    for _, s in ipairs(l) do
        if cur and cur.t and (s[1] == cur.dis or s[1] == cur.dis + 1) then
            cur.dis, cur.disy = s[2], s[4]
            cur.t, cur.x = s.t, s.x
        else
            cur = {adm = s[1], dis = s[2], admy = s[3], disy = s[4],
                t = s.t, x = s.x, p = s.p}
            eps[#eps + 1] = cur
        end
    end
    local out = {}
    local function at(y)
        local v = out[y]
        if not v then
            v = {0, 0, 0}
            out[y] = v
        end
        return v
    end
    for i, e in ipairs(eps) do
        if not e.p then
            local v = at(e.admy)
            v[3] = v[3] + 1
        end
        if not e.t and not e.x then
            local v = at(e.disy)
            v[1] = v[1] + 1
            for j, o in ipairs(eps) do
                local gap = o.adm - e.dis
                if j ~= i and not o.p and gap >= 1 and gap <= 30 then
                    v[2] = v[2] + 1
                    break
                end
            end
        end
    end
    return out
end

-- A legacy q:<year> field 'd,n,x' (nil: none) as three numbers.
local function parse_q(v)
    if not v then
        return 0, 0, 0
    end
    local d, n, x = string.match(v, '^(-?%d+),(-?%d+),(-?%d+)$')
    return tonumber(d) or 0, tonumber(n) or 0, tonumber(x) or 0
end

local function parse_stay(s, key)
    local a, d, ay, dy, flags = string.match(s,
        '^([^,]*),([^,]*),([^,]*),([^,]*),?(.*)$')
    if not a then
        a, d, ay, dy, flags = s, '', '', '', ''
    end
    return {tonumber(a), tonumber(d), tonumber(ay), tonumber(dy),
        key, t = string.find(flags, 't', 1, true) ~= nil,
        x = string.find(flags, 'x', 1, true) ~= nil,
        p = string.find(flags, 'p', 1, true) ~= nil}
end

local function apply(keys, args)
    local prefix, tp = args[1], args[2]
    local from, to = args[3], args[4]
    local wm, n = args[5], tonumber(args[6])
    local call = redis.call
    local msgs = cmsgpack.unpack(args[7])
    if type(msgs) ~= 'table' or #msgs ~= n then
        return redis.error_reply('ERR claimsd_apply: malformed batch')
    end

    local stored = call('HGET', keys[1], tp)
    if stored and stored ~= from then
        return {0, tonumber(stored)}
    end
    -- Data layout 2 (ledger, fallbacks in claim states). A prefix that has
    -- offsets but no layout mark was written by layout 1, whose claim
    -- states this code would misread: refuse rather than miscount.
    local layout = call('GET', prefix .. 'layout')
    if not layout and call('HLEN', keys[1]) > 0 then
        return redis.error_reply('ERR claimsd_apply: ' .. prefix
            .. ' holds data of an older layout; replay into a new prefix')
    elseif layout and layout ~= '2' then
        return redis.error_reply('ERR claimsd_apply: ' .. prefix
            .. ' holds layout ' .. layout .. ', this claimsd writes 2')
    end

    -- The measure definitions a prefix is counted with are fixed by the
    -- first caller that brings them (stored in <prefix>measures); every
    -- later caller must bring the same ones, except an attribution-only
    -- batch without any (claimsctl with a config lacking
    -- quality.measures_dir), which uses the stored ones. Counts made under
    -- two definitions would be wrong without any sign of it.
    local mine = args[8] or ''
    local stored_m = call('GET', prefix .. 'measures')
    local store_m = false
    if not stored_m then
        if mine ~= '' then
            if tonumber(call('HGET', prefix .. 'stats', 'claims') or '0') > 0
            then
                return redis.error_reply('ERR claimsd_apply: quality '
                    .. 'measures turned on for ' .. prefix .. ', whose claims '
                    .. 'were counted without them; replay into a new prefix')
            end
            store_m = true
        end
    elseif mine == '' then
        for x = 1, #msgs do
            if msgs[x][1] == 'C' then
                return redis.error_reply('ERR claimsd_apply: ' .. prefix
                    .. ' counts quality measures; set quality.measures_dir '
                    .. '(the same definitions)')
            end
        end
        mine = stored_m
    elseif mine ~= stored_m then
        return redis.error_reply('ERR claimsd_apply: measure definitions '
            .. 'differ from those ' .. prefix .. ' was counted with; '
            .. 'replay into a new prefix')
    end
    local defs = parse_measures(mine)

    -- Roles as stored by a claimsd before the index encoding,
    -- 'id:dnx;...', in today's form (a prefix written then keeps working).
    local function legacy_roles(q, year)
        local out = {}
        for id, r in string.gmatch(q, '([^;:]+):([dnx]*)') do
            for i, d in ipairs(defs) do
                if d.id == id and year >= d.from and year <= d.to then
                    local bits = 0
                    for k, letter in ipairs({'d', 'n', 'x'}) do
                        if string.find(r, letter, 1, true) then
                            bits = bits + 2 ^ (k - 1)
                        end
                    end
                    if bits > 0 then
                        out[#out + 1] = string.format('%03d%d', i - 1, bits)
                    end
                    break
                end
            end
        end
        return table.concat(out)
    end

    local function stored_roles(q, year)
        if string.find(q, ':', 1, true) then
            return legacy_roles(q, year)
        end
        return q
    end

    local incr = {}        -- key -> field -> delta
    local incr3 = {}       -- key -> field prefix -> {paid, allowed, count}
    local keycache = {}    -- target -> year -> counter key
    local claim_set = {}   -- claim key -> new state (last write wins)
    local claim_cache = {}
    local bene_cache = {}  -- year -> bene_h -> attribution or false
    local part_cache = {}  -- year -> 'tin:x' -> ACO or false
    local qstate = {}      -- year -> bene_h -> measure counts (qload)
    local qtrack = {}      -- year -> bene_h -> counts with a noted status
    local qwant = {}       -- year -> bene_h list to prefetch
    local stay_cache = {}  -- bene_h -> claim hash -> stay
    local stay_set = {}    -- bene_h -> claim hash -> value or false
    local stats = {}
    local acos = {}
    local dlq = {}
    local attr = {}
    local moves = {}
    local params = {}      -- {aco, year, text}, in batch order
    local applied, dup, stale, cancels, markers = 0, 0, 0, 0, 0

    local function add(key, field, v)
        if v ~= 0 then
            local t = child(incr, key)
            t[field] = (t[field] or 0) + v
        end
    end

    -- The expenditure triple of a field prefix (fields prefix .. p/a/n):
    -- one table entry and no string building per claim bucket; the field
    -- names are made once per batch when written.
    local function add3(key, fp, p, a, c)
        local t = child(incr3, key)
        local v = t[fp]
        if not v then
            t[fp] = {p, a, c}
        else
            v[1] = v[1] + p
            v[2] = v[2] + a
            v[3] = v[3] + c
        end
    end

    local function counter_key(target, year)
        local t = child(keycache, target)
        local k = t[year]
        if not k then
            if string.byte(target, 1) == 126 then -- '~'
                k = prefix .. 'unattributed:' .. year
            else
                k = prefix .. 'aco:' .. target .. ':exp:' .. year
                acos[target] = true
            end
            t[year] = k
        end
        return k
    end

    local function ledger_key(year, bh)
        return prefix .. 'led:' .. year .. ':' .. bh
    end

    -- The counter field prefix of a target's bucket: E .. suffix [..
    -- reason ':'].
    local function field_of(target, e, suffix)
        if string.byte(target, 1) == 126 then
            return e .. suffix .. string.sub(target, 2) .. ':'
        end
        return e .. suffix
    end

    -- 'ACO:E:mask:optout[:birth_year:sex]' as a table, or false. A
    -- malformed value (hand-edited, say) counts as none rather than failing
    -- every batch of the partition.
    local function parse_attr(rec)
        if not rec or rec == '' then
            return false
        end
        local f = split(rec, ':')
        local mask = tonumber(f[3])
        if not mask then
            return false
        end
        return {aco = f[1], e = f[2], mask = mask, optout = f[4] == '1',
            birth = tonumber(f[5] or ''), sex = f[6] or ''}
    end

    local function bene_year(bh, year)
        local t = child(bene_cache, year)
        local v = t[bh]
        if v == nil then
            v = parse_attr(call('HGET', prefix .. 'bene:' .. year, bh))
            t[bh] = v
        end
        return v
    end


    -- A beneficiary's claim-version counts for the measures of a year are
    -- one field of qb:<year> (docs/redis-keys.md), read with one HMGET
    -- per batch and written with one HSET. In Lua they are one flat array
    -- c per beneficiary and year, made in one piece from a template (a
    -- table grown key by key is rehashed at every power of two): for
    -- definition i, c[i] d, c[i + N] n, c[i + N2] x and c[i + N3] the
    -- status noted at the batch's first change (-1 none); c[DIRTY] 1
    -- when changed, c[R0] {attribution at the first change} or 0.
    local N = #defs
    local N2, N3 = 2 * N, 3 * N
    local DIRTY, R0 = 4 * N + 1, 4 * N + 2
    local template = {}
    for k = 1, R0 do
        template[k] = (k > N3 and k <= 4 * N) and -1 or 0
    end
    local function want_q(year, bh)
        local t = child(qstate, year)
        if t[bh] == nil then
            t[bh] = false
            local l = child(qwant, year)
            l[#l + 1] = bh
        end
    end

    -- The definitions in force for a year, as indices into defs.
    local ydefs = {}
    local function defs_of(year)
        local l = ydefs[year]
        if not l then
            l = {}
            for i, d in ipairs(defs) do
                if year >= d.from and year <= d.to then
                    l[#l + 1] = i
                end
            end
            ydefs[year] = l
        end
        return l
    end

    -- Roles are four digits per definition: its 0-based index in the
    -- measure table and the role bits d = 1, n = 2, x = 4. Decoded once
    -- per distinct string per batch (most claims play the same few sets
    -- of roles) into {index, bits, ...}; false if malformed.
    local rcache = {}
    local function roles_list(q)
        local l = rcache[q]
        if l == nil then
            l = #q % 4 == 0 and {}
            for k = 1, l and #q or 0, 4 do
                local a, b, c, r = string.byte(q, k, k + 3)
                local i = (a - 48) * 100 + (b - 48) * 10 + c - 47
                r = r - 48
                if not defs[i] or r < 1 or r > 7 then
                    l = false
                    break
                end
                l[#l + 1] = i
                l[#l + 1] = r
            end
            rcache[q] = l
        end
        return l
    end

    local function want_roles(year, bh, q)
        if q == '' then
            return true
        end
        if not roles_list(q) then
            return false
        end
        want_q(year, bh)
        return true
    end

    -- Counts from a qb:<year> value, a msgpack array of (index, d, n, x)
    -- per definition with a count; nil for none.
    local function qparse(v)
        local c = {unpack(template)}
        if v then
            local t = cmsgpack.unpack(v)
            for j = 1, #t, 4 do
                local i = t[j] + 1
                c[i], c[i + N], c[i + N2] = t[j + 1], t[j + 2], t[j + 3]
            end
        end
        return c
    end

    -- Beneficiaries without a qb:<year> field, in a prefix that kept
    -- their counts as q:<year> fields 'bene_h:id' = 'd,n,x' before:
    -- read those, and write them to qb:<year> with the batch.
    local legacy = {}
    local function qlegacy(year, bh, c)
        local has = legacy[year]
        if has == nil then
            -- HLEN, not EXISTS: the documented ACL allows it.
            has = call('HLEN', prefix .. 'q:' .. year) > 0
            legacy[year] = has
        end
        if not has then
            return
        end
        local f, at = {}, defs_of(year)
        for x, i in ipairs(at) do
            f[x] = bh .. ':' .. defs[i].id
        end
        if #f > 0 then
            local vals = call('HMGET', prefix .. 'q:' .. year, unpack(f))
            for x = 1, #f do
                local i = at[x]
                c[i], c[i + N], c[i + N2] = parse_q(vals[x])
            end
            c[DIRTY] = 1
        end
    end

    local function qload(year, bh)
        local t = child(qstate, year)
        local c = t[bh]
        if not c then
            local v = call('HGET', prefix .. 'qb:' .. year, bh)
            c = qparse(v or nil)
            if not v then
                qlegacy(year, bh, c)
            end
            t[bh] = c
        end
        return c
    end

    -- Read in bulk what the batch will look up one by one: claim states
    -- (MGET), attribution for every year a claim touches or a record
    -- changes, and the participant ids of every claim (HMGET per year).
    local function prefetch()
        local cks, seen_ck = {}, {}
        local benes, seen_b = {}, {}
        local parts, seen_p = {}, {}
        local function want_bene(year, bh)
            local s = child(seen_b, year)
            if not s[bh] then
                s[bh] = true
                local l = child(benes, year)
                l[#l + 1] = bh
            end
        end
        for x = 1, n do
            local m = msgs[x]
            local kind = m[1]
            if kind == 'C' then
                local ck, bh = m[3], m[8]
                if not seen_ck[ck] then
                    seen_ck[ck] = true
                    cks[#cks + 1] = ck
                end
                for b = 0, m[15] - 1 do
                    local year = m[16 + 6 * b]
                    want_bene(year, bh)
                    local s = child(seen_p, year)
                    for i = 10, 13 do
                        local f = m[i]
                        if f ~= '' and not s[f] then
                            s[f] = true
                            local l = child(parts, year)
                            l[#l + 1] = f
                        end
                    end
                end
                local nb = m[15]
                if not want_roles(m[16 + 6 * nb], bh, m[17 + 6 * nb]) then
                    return false
                end
            elseif kind == 'A' then
                want_bene(m[3], m[2])
            elseif kind ~= 'D' and kind ~= 'M' and kind ~= 'P' then
                return false
            end
        end
        for c = 1, #cks, 1000 do
            local chunk = {unpack(cks, c, math.min(c + 999, #cks))}
            local vals = call('MGET', unpack(chunk))
            for x = 1, #chunk do
                claim_cache[chunk[x]] = vals[x] or false
            end
        end
        -- The counts a replaced version's roles are removed from.
        for x = 1, N > 0 and n or 0 do
            local m = msgs[x]
            local state = m[1] == 'C' and claim_cache[m[3]]
            if state and string.sub(state, 57, 88) ~= m[4] then
                local oy, oq = string.match(state,
                    '^[^|]*|[^|]*|([^|]*)|([^|]*)', 125)
                oy = tonumber(oy)
                if oq and oq ~= '' and oy
                    and not want_roles(oy, m[8], stored_roles(oq, oy)) then
                    return false
                end
            end
        end
        -- One HMGET per year and 1,000 fields into cache[year], each
        -- value through parse.
        local function hmget_years(want, cache, name, parse)
            for year, l in pairs(want) do
                local t = child(cache, year)
                local key = prefix .. name .. year
                for c = 1, #l, 1000 do
                    local chunk = {unpack(l, c, math.min(c + 999, #l))}
                    local vals = call('HMGET', key, unpack(chunk))
                    for x = 1, #chunk do
                        t[chunk[x]] = parse(vals[x])
                    end
                end
            end
        end
        hmget_years(benes, bene_cache, 'bene:', parse_attr)
        for year, l in pairs(qwant) do
            local key = prefix .. 'qb:' .. year
            local t = qstate[year]
            for c = 1, #l, 1000 do
                local last = math.min(c + 999, #l)
                local vals = call('HMGET', key, unpack(l, c, last))
                for x = c, last do
                    local v = vals[x - c + 1]
                    local q = qparse(v or nil)
                    if not v then
                        qlegacy(year, l[x], q)
                    end
                    t[l[x]] = q
                end
            end
        end
        hmget_years(parts, part_cache, 'participant:',
            function(v) return v or false end)
        return true
    end

    -- The participant-fallback ACO of a claim for a year, or ''
    -- (docs/netting.md section 4, step 2).
    local function fallback_of(year, m)
        local t = child(part_cache, year)
        for i = 10, 13 do
            local f = m[i]
            if f ~= '' then
                local a = t[f]
                if a == nil then
                    a = call('HGET', prefix .. 'participant:' .. year, f)
                        or false
                    t[f] = a
                end
                if a then
                    return a
                end
            end
        end
        return ''
    end

    -- Where a bucket of month `month` with fallback F counts under
    -- attribution `rec`: target ('ACO' or '~reason') and enrollment type.
    local function resolve(rec, month, f)
        if rec then
            if bit(rec.mask, month) then
                return rec.aco, rec.e
            end
            if f ~= '' then
                return f, rec.e
            end
            return '~not_assigned_month', rec.e
        end
        if f ~= '' then
            return f, 'U'
        end
        return '~no_attribution', 'U'
    end

    -- Book (sign 1) or unbook (-1) one bucket in the counters and the
    -- ledger. sfx is ':MM:TT:RRRRRR:'.
    local function book(bh, year, month, sfx, f, sign, p, a, c)
        local target, e = resolve(bene_year(bh, year), month, f)
        local ck = counter_key(target, year)
        local field = field_of(target, e, sfx)
        local lk = ledger_key(year, bh)
        local lf = string.sub(sfx, 2) .. f .. ':'
        add3(ck, field, sign * p, sign * a, sign * c)
        add3(lk, lf, sign * p, sign * a, sign * c)
        return target
    end

    -- Status of a beneficiary with counts (d, n, x) for one measure
    -- definition de of year (docs/quality.md 3.2): 0 none, 1 den, 3 den
    -- and num, 4 excl.
    local function status(rec, year, de, d, n, x)
        if not rec or rec.mask == 0 or d <= 0 then
            return 0
        end
        if de.amin >= 0 or de.amax >= 0 then
            if not rec.birth then
                return 0
            end
            local age = year - rec.birth
            if (de.amin >= 0 and age < de.amin)
                or (de.amax >= 0 and age > de.amax) then
                return 0
            end
        end
        if de.sex ~= '*' and rec.sex ~= de.sex then
            return 0
        end
        if x > 0 then
            return 4
        end
        return n > 0 and 3 or 1
    end

    local qkeys = {}
    local function quality_key(aco, year)
        local t = child(qkeys, aco)
        local k = t[year]
        if not k then
            acos[aco] = true
            k = prefix .. 'aco:' .. aco .. ':quality:' .. year
            t[year] = k
        end
        return k
    end

    -- Add (sign 1) or remove (-1) status st of rec in its ACO's counters.
    local function book_status(rec, year, de, st, sign)
        if st ~= 0 then
            local k = quality_key(rec.aco, year)
            if st == 4 then
                add(k, de.excl, sign)
            else
                add(k, de.den, sign)
                if st == 3 then
                    add(k, de.num, sign)
                end
            end
        end
    end

    -- Statuses are booked once per batch, by settle_quality: before the
    -- first change that could move definition i's status (a count
    -- crossing zero; a status depends only on which counts are
    -- positive), note the status under the attribution then in force;
    -- the batch books the move from it to the final status under the
    -- final attribution. The steps in between cancel out, so this
    -- equals booking each one.
    local function track(year, bh, c, i)
        local r0 = c[R0]
        if r0 == 0 then
            r0 = {bene_year(bh, year)}
            c[R0] = r0
            child(qtrack, year)[bh] = c
        end
        c[i + N3] = status(r0[1], year, defs[i], c[i], c[i + N], c[i + N2])
    end

    -- Add (sign 1) or remove (-1) one claim version's measure roles.
    local function quality_change(bh, year, q, sign)
        local c = qstate[year] and qstate[year][bh] or qload(year, bh)
        local l = roles_list(q)
        for k = 1, #l, 2 do
            local i, r = l[k], l[k + 1]
            local d = c[i]
            if r == 1 then -- the common case: a denominator event only
                if c[i + N3] < 0 and (d > 0) ~= (d + sign > 0) then
                    track(year, bh, c, i)
                end
                c[i] = d + sign
            else
                local n, x = c[i + N], c[i + N2]
                local rd, rn = r % 2, r % 4 >= 2 and 1 or 0
                local rx = r >= 4 and 1 or 0
                if c[i + N3] < 0
                    and ((rd == 1 and (d > 0) ~= (d + sign > 0))
                        or (rn == 1 and (n > 0) ~= (n + sign > 0))
                        or (rx == 1 and (x > 0) ~= (x + sign > 0))) then
                    track(year, bh, c, i)
                end
                c[i], c[i + N], c[i + N2] = d + rd * sign, n + rn * sign,
                    x + rx * sign
            end
        end
        c[DIRTY] = 1
    end

    -- Before an attribution change: note every definition's status of
    -- the year under the attribution in force until now, so
    -- settle_quality moves them.
    local function track_year(bh, year)
        local c = qload(year, bh)
        for _, i in ipairs(defs_of(year)) do
            if c[i + N3] < 0 then
                track(year, bh, c, i)
            end
        end
    end

    local function settle_quality()
        for year, benes in pairs(qtrack) do
            for bh, c in pairs(benes) do
                local rec0, rec1 = c[R0][1], bene_year(bh, year)
                local l = defs_of(year)
                for x = 1, #l do
                    local i = l[x]
                    local s0 = c[i + N3]
                    if s0 >= 0 then
                        local de = defs[i]
                        local s1 = status(rec1, year, de, c[i], c[i + N],
                            c[i + N2])
                        if s1 ~= s0 or rec0 ~= rec1 then
                            book_status(rec0, year, de, s0, -1)
                            book_status(rec1, year, de, s1, 1)
                        end
                    end
                end
            end
        end
    end

    -- A dirty beneficiary's qb:<year> value: (index, d, n, x) for each
    -- definition with a count, in table order (a replay writes the same
    -- bytes). Small counts, the usual ones, are msgpack positive fixints,
    -- so string.char writes exactly what cmsgpack.pack would, for a third
    -- of its cost.
    local function qpack(c, year)
        local t, k, small = {}, 0, true
        local l = defs_of(year)
        for y = 1, #l do
            local i = l[y]
            local d, n, x = c[i], c[i + N], c[i + N2]
            if d ~= 0 or n ~= 0 or x ~= 0 then
                if i > 128 or d < 0 or n < 0 or x < 0 or d > 127 or n > 127
                    or x > 127 then
                    small = false
                end
                t[k + 1], t[k + 2], t[k + 3], t[k + 4] = i - 1, d, n, x
                k = k + 4
            end
        end
        if not small then
            return cmsgpack.pack(t)
        elseif k < 16 then
            return string.char(0x90 + k, unpack(t, 1, k))
        end
        return string.char(0xdc, math.floor(k / 256), k % 256, unpack(t, 1, k))
    end

    local function stays_of(bh)
        local s = stay_cache[bh]
        if not s then
            s = {}
            local v = call('HGETALL', prefix .. 'stays:' .. bh)
            for i = 1, #v, 2 do
                s[v[i]] = parse_stay(v[i + 1], v[i])
            end
            stay_cache[bh] = s
        end
        return s
    end

    local aco_outcome = {'readm:index', 'readm:readmit', 'admits'}

    -- Replace (or remove, value '') the stay of claim `sk`. The change of
    -- the beneficiary's outcome figures is booked once per batch, by
    -- settle_outcomes: their stays are sorted and walked twice per
    -- beneficiary, not twice per inpatient claim.
    local obefore = {} -- bene_h -> outcomes of its stays before the batch
    local function stay_change(bh, sk, value)
        local s = stays_of(bh)
        if not obefore[bh] then
            obefore[bh] = outcomes(s)
        end
        if value == '' then
            s[sk] = nil
            child(stay_set, bh)[sk] = false
        else
            s[sk] = parse_stay(value, sk)
            child(stay_set, bh)[sk] = value
        end
    end

    -- Book a change of a beneficiary's outcome figures for year y, from
    -- b to a, under the attribution in force at the end of the batch (a
    -- re-attribution earlier in the batch moved the figures as they stood
    -- before it).
    local function book_outcomes(bh, y, b, a)
        local rec = bene_year(bh, y)
        if rec and rec.mask ~= 0 then
            for i = 1, 3 do
                local dv = a[i] - b[i]
                if dv ~= 0 then
                    add(quality_key(rec.aco, y), aco_outcome[i], dv)
                end
            end
        end
    end

    local function settle_outcomes()
        local none = {0, 0, 0}
        for bh, before in pairs(obefore) do
            local after = outcomes(stay_cache[bh])
            for y, b in pairs(before) do
                book_outcomes(bh, y, b, after[y] or none)
            end
            for y, a in pairs(after) do
                if not before[y] then
                    book_outcomes(bh, y, none, a)
                end
            end
        end
    end

    -- Remove the stored contributions of a version, booked in month recv.
    -- Returns the version's stay ('' none).
    -- A replaced version's measure roles are removed unless the new version
    -- (newq for year newy, '' for a cancellation) plays exactly the same:
    -- removing and re-adding them would change nothing.
    local function unbook(state, recv, bh, newq, newy)
        local rest = split(string.sub(state, 125), '|')
        local fl = split(rest[1], ';')
        local i = 0
        for item in string.gmatch(rest[2] or '', '[^;]+') do
            i = i + 1
            local b = split(item, ',')
            local sfx = ':' .. b[2] .. ':' .. b[3] .. ':' .. recv .. ':'
            book(bh, tonumber(b[1]), tonumber(b[2]), sfx, fl[i] or '', -1,
                tonumber(b[4]), tonumber(b[5]), tonumber(b[6]))
        end
        local same = false
        if rest[4] and rest[4] ~= '' then
            local oy = tonumber(rest[3])
            local oq = stored_roles(rest[4], oy)
            same = oq == newq and oy == newy
            if not same then
                quality_change(bh, oy, oq, -1)
            end
        end
        return rest[5] or '', same
    end

    -- Everything of one beneficiary and year: the ledger as stored plus
    -- this batch's pending increments to it.
    local function ledger_now(lk)
        local v = call('HGETALL', lk)
        local t = {}
        for i = 1, #v, 2 do
            t[v[i]] = tonumber(v[i + 1])
        end
        local pend = incr[lk]
        if pend then
            for f, d in pairs(pend) do
                t[f] = (t[f] or 0) + d
            end
        end
        pend = incr3[lk]
        if pend then
            for f, d in pairs(pend) do
                t[f .. 'p'] = (t[f .. 'p'] or 0) + d[1]
                t[f .. 'a'] = (t[f .. 'a'] or 0) + d[2]
                t[f .. 'n'] = (t[f .. 'n'] or 0) + d[3]
            end
        end
        return t
    end

    local function pop_add(rec, year, sign)
        if rec and rec.mask ~= 0 then
            acos[rec.aco] = true
            local k = prefix .. 'aco:' .. rec.aco .. ':pop:' .. year
            local months = popcount(rec.mask)
            add(k, rec.e .. ':b', sign)
            add(k, rec.e .. ':m', sign * months)
            if rec.optout then
                add(k, rec.e .. ':xb', sign)
                add(k, rec.e .. ':xm', sign * months)
            end
        end
    end

    local function same_attr(a, b)
        if not a or not b then
            return a == b
        end
        return a.aco == b.aco and a.e == b.e and a.mask == b.mask
            and a.optout == b.optout and a.birth == b.birth
            and a.sex == b.sex
    end

    -- A beneficiary's attribution for a year changes from old to new:
    -- move everything the ledger holds (docs/quality.md section 1).
    local function reattribute(bh, year, old, new, m)
        pop_add(old, year, -1)
        pop_add(new, year, 1)
        local led = ledger_now(ledger_key(year, bh))
        local moved = 0
        track_year(bh, year)
        -- Outcome figures are the stays' (quality on only), as they stood
        -- before this batch changed them: settle_outcomes books the
        -- batch's changes under the final attribution. (Ledgers written
        -- before kept them as fields o:i, o:r, o:a, now ignored.)
        local o = N > 0 and (obefore[bh] or outcomes(stays_of(bh)))[year]
        for i = 1, 3 do
            if o and o[i] ~= 0 then
                if old and old.mask ~= 0 then
                    add(quality_key(old.aco, year), aco_outcome[i], -o[i])
                end
                if new and new.mask ~= 0 then
                    add(quality_key(new.aco, year), aco_outcome[i], o[i])
                end
            end
        end
        for f, v in pairs(led) do
            if v ~= 0 then
                local p = split(f, ':')
                if p[1] ~= 'o' then
                    -- MM:TT:RRRRRR:F:k
                    local month = tonumber(p[1])
                    local t0, e0 = resolve(old, month, p[4])
                    local t1, e1 = resolve(new, month, p[4])
                    if t0 ~= t1 or e0 ~= e1 then
                        local sfx = ':' .. p[1] .. ':' .. p[2] .. ':' .. p[3]
                            .. ':'
                        add(counter_key(t0, year), field_of(t0, e0, sfx)
                            .. p[5], -v)
                        add(counter_key(t1, year), field_of(t1, e1, sfx)
                            .. p[5], v)
                        if not bit(moved, month) then
                            moved = moved + 2 ^ (month - 1)
                        end
                    end
                end
            end
        end
        local changed = not old or not new or old.aco ~= new.aco
            or old.e ~= new.e or old.mask ~= new.mask
        if changed and (old or moved ~= 0) then
            local eff = 0
            for month = 1, 12 do
                if bit(moved, month) then
                    eff = month
                    break
                end
            end
            moves[#moves + 1] = {bh, year, old and old.aco or '-',
                new and new.aco or '-', old and old.e or '-',
                new and new.e or '-', moved, eff, m[5], m[6]}
        end
    end

    -- The applied versions of a claim, oldest first, for claimsctl
    -- explain: 'topic/partition/offset,vh8,adj;...', the last HIST_MAX.
    -- Plain finds only: an anchored pattern such as '[^|]*$' rescans the
    -- state from every position, which cost more than the rest of the
    -- claim's bookkeeping. A state written before the field existed has
    -- nine fields, so its ninth separator is missing: a new history.
    local HIST_MAX = 8
    local here = tp .. '/'
    local find, sub = string.find, string.sub
    local function history(state, off, vh, adj)
        local entry = here .. string.format('%d', off) .. ','
            .. sub(vh, 1, 8) .. ',' .. adj
        if not state then
            return entry
        end
        local pos = 122 -- the third '|': rank(55), vh(32), digest(32)
        for _ = 4, 9 do
            pos = find(state, '|', pos + 1, true)
            if not pos then
                return entry
            end
        end
        local h = sub(state, pos + 1)
        if h == '' then
            return entry
        end
        local first = find(h, ';', 1, true)
        local n, p = 1, first
        while p do
            n = n + 1
            p = find(h, ';', p + 1, true)
        end
        if n >= HIST_MAX then
            h = sub(h, first + 1)
        end
        return h .. ';' .. entry
    end

    if not prefetch() then
        return redis.error_reply('ERR claimsd_apply: malformed batch')
    end
    for x = 1, n do
        local m = msgs[x]
        local kind = m[1]
        if kind == 'C' then
            local off, ck, vh, digest = m[2], m[3], m[4], m[5]
            local rank, adj, bh, recv = m[6], m[7], m[8], m[9]
            local blob, nb = m[14], m[15]
            local qyear, q, stay = m[16 + 6 * nb], m[17 + 6 * nb],
                m[18 + 6 * nb]

            local state = claim_cache[ck]
            local verdict = 'apply'
            if state then
                if string.sub(state, 57, 88) == vh then
                    verdict = (string.sub(state, 90, 121) == digest) and 'dup'
                        or 'conflict'
                elseif rank < string.sub(state, 1, 55) then
                    verdict = 'stale'
                end
            end

            if verdict == 'dup' then
                dup = dup + 1
            elseif verdict == 'stale' then
                stale = stale + 1
            elseif verdict == 'conflict' then
                dlq[#dlq + 1] = {off, 'version_conflict'}
            else
                local old_stay, same_q = '', false
                if state then
                    old_stay, same_q = unbook(state, recv, bh,
                        adj ~= 'C' and q or '', qyear)
                end
                local fl = {}
                if adj ~= 'C' then
                    for b = 0, nb - 1 do
                        local k = 16 + 6 * b
                        local year = m[k]
                        local f = fallback_of(year, m)
                        local cnt = m[k + 5]
                        local target = book(bh, year, m[k + 1], m[k + 2], f,
                            1, m[k + 3], m[k + 4], cnt)
                        if cnt == 1 and string.byte(target, 1) == 126 then
                            local st = 'unattributed:' .. string.sub(target, 2)
                            stats[st] = (stats[st] or 0) + 1
                        end
                        fl[b + 1] = f
                    end
                    if q ~= '' and not same_q then
                        quality_change(bh, qyear, q, 1)
                    end
                else
                    cancels = cancels + 1
                    blob, q, stay = '', '', ''
                end
                if stay ~= old_stay then
                    stay_change(bh, string.sub(ck, -32), stay)
                end
                local new = rank .. '|' .. vh .. '|' .. digest .. '|' .. adj
                    .. '|' .. table.concat(fl, ';') .. '|' .. blob .. '|'
                    .. qyear .. '|' .. q .. '|' .. stay .. '|'
                    .. history(state, off, vh, adj)
                claim_set[ck] = new
                claim_cache[ck] = new
                applied = applied + 1
            end
        elseif kind == 'D' then
            dlq[#dlq + 1] = {m[2], m[3]}
        elseif kind == 'M' then
            markers = markers + 1
        elseif kind == 'A' then
            local bh, year, value = m[2], m[3], m[4]
            local old = bene_year(bh, year)
            local new = parse_attr(value)
            if not same_attr(old, new) then
                reattribute(bh, year, old, new, m)
                attr[#attr + 1] = {bh, year, value}
                bene_cache[year][bh] = new
            end
            stats.attribution = (stats.attribution or 0) + 1
        elseif kind == 'P' then
            params[#params + 1] = {m[2], m[3], m[4]}
            stats.parameters = (stats.parameters or 0) + 1
        end
    end

    settle_outcomes()
    settle_quality()

    -- All reads are done; from here on only writes.
    if not layout then
        call('SET', prefix .. 'layout', '2')
    end
    if store_m then
        call('SET', prefix .. 'measures', mine)
    end
    local kv = {}
    for ck, st in pairs(claim_set) do
        kv[#kv + 1] = ck
        kv[#kv + 1] = st
        if #kv >= 2000 then
            call('MSET', unpack(kv))
            kv = {}
        end
    end
    if #kv > 0 then
        call('MSET', unpack(kv))
    end
    for _, a in ipairs(attr) do
        if a[3] == '' then
            call('HDEL', prefix .. 'bene:' .. a[2], a[1])
        else
            call('HSET', prefix .. 'bene:' .. a[2], a[1], a[3])
        end
    end
    for bh, fields in pairs(stay_set) do
        local key = prefix .. 'stays:' .. bh
        for f, v in pairs(fields) do
            if v then
                call('HSET', key, f, v)
            else
                call('HDEL', key, f)
            end
        end
    end
    local fmt = string.format
    for key, fields in pairs(incr) do
        for field, v in pairs(fields) do
            if v ~= 0 then
                call('HINCRBY', key, field, fmt('%d', v))
            end
        end
    end
    for year, benes in pairs(qstate) do
        local key = prefix .. 'qb:' .. year
        local kv = {}
        for bh, c in pairs(benes) do
            if c and c[DIRTY] == 1 then
                kv[#kv + 1] = bh
                kv[#kv + 1] = qpack(c, year)
                if #kv >= 2000 then
                    call('HSET', key, unpack(kv))
                    kv = {}
                end
            end
        end
        if #kv > 0 then
            call('HSET', key, unpack(kv))
        end
    end
    for key, fields in pairs(incr3) do
        for fp, v in pairs(fields) do
            if v[1] ~= 0 then
                call('HINCRBY', key, fp .. 'p', fmt('%d', v[1]))
            end
            if v[2] ~= 0 then
                call('HINCRBY', key, fp .. 'a', fmt('%d', v[2]))
            end
            if v[3] ~= 0 then
                call('HINCRBY', key, fp .. 'n', fmt('%d', v[3]))
            end
        end
    end
    for _, d in ipairs(dlq) do
        call('HINCRBY', prefix .. 'dlq:count', d[2], 1)
        call('XADD', prefix .. 'dlq', 'MAXLEN', '~', '100000', '*',
            'topic_partition', tp, 'offset', fmt('%d', d[1]),
            'reason', d[2])
    end
    for _, v in ipairs(moves) do
        call('XADD', prefix .. 'reattribution', 'MAXLEN', '~', '1000000', '*',
            'bene', v[1], 'year', fmt('%d', v[2]), 'from', v[3], 'to', v[4],
            'from_enrollment', v[5], 'to_enrollment', v[6],
            'months', fmt('%d', v[7]), 'effective_month', fmt('%d', v[8]),
            'source', tp .. '/' .. fmt('%d', v[9]), 'as_of', v[10])
    end
    for _, pa in ipairs(params) do
        local year = fmt('%d', pa[2])
        call('HSET', prefix .. 'aco:' .. pa[1] .. ':params', year, pa[3])
        call('SADD', prefix .. 'payparams', pa[1] .. ':' .. year)
        acos[pa[1]] = true
    end
    local acolist = {}
    for aco in pairs(acos) do
        acolist[#acolist + 1] = aco
    end
    if #acolist > 0 then
        call('SADD', prefix .. 'acos', unpack(acolist))
    end
    stats.batches = 1
    stats.claims = applied
    stats.duplicate = dup
    stats.stale = stale
    stats.cancel = cancels
    stats.markers = markers
    stats.dead_letter = #dlq
    stats.reattributed = #moves
    local st = prefix .. 'stats'
    for field, v in pairs(stats) do
        if v ~= 0 then
            call('HINCRBY', st, field, v)
        end
    end
    if wm ~= '' then
        local cur = call('HGET', prefix .. 'watermark', tp)
        if not cur or tonumber(cur) < tonumber(wm) then
            call('HSET', prefix .. 'watermark', tp, wm)
        end
    end
    call('HSET', keys[1], tp, to)
    local unattributed = 0
    for field, v in pairs(stats) do
        if string.sub(field, 1, 13) == 'unattributed:' then
            unattributed = unattributed + v
        end
    end
    local reply = {1, tonumber(to), applied, dup, stale, #dlq, unattributed}
    for _, d in ipairs(dlq) do
        if d[2] == 'version_conflict' then
            reply[#reply + 1] = d[1]
        end
    end
    return reply
end

redis.register_function('claimsd_apply', apply)

-- claimsd_pay: issue payment records (docs/payments.md) idempotently.
--   ARGV  prefix, then per record: aco, id, text, kind, period, amount
-- A record id is written once: the same text again is a no-op (two
-- processes, or a restart, computing the same record), a different text is
-- refused, since an issued record is never rewritten (a correction is a new
-- record with its own id). Reply per record: 1 issued now, 0 already
-- issued, -1 refused.
local function pay(keys, args)
    local prefix = args[1]
    local call = redis.call
    local out = {}
    if (#args - 1) % 6 ~= 0 then
        return redis.error_reply('ERR claimsd_pay: malformed records')
    end
    for i = 2, #args, 6 do
        local aco, id, text = args[i], args[i + 1], args[i + 2]
        local h = prefix .. 'aco:' .. aco .. ':payments'
        local cur = call('HGET', h, id)
        if not cur then
            call('HSET', h, id, text)
            call('XADD', prefix .. 'payments', 'MAXLEN', '~', '1000000', '*',
                'id', id, 'aco', aco, 'kind', args[i + 3],
                'period', args[i + 4], 'amount_cents', args[i + 5])
            call('SADD', prefix .. 'acos', aco)
            out[#out + 1] = 1
        elseif cur == text then
            out[#out + 1] = 0
        else
            out[#out + 1] = -1
        end
    end
    return out
end

redis.register_function('claimsd_pay', pay)
