#!lua name=claimsd
--
-- claimsd_apply: apply one partition batch atomically (design.md section
-- 2.1, docs/design-notes.md).
--
-- The offset fence runs first and every read happens before the first write,
-- so a rejected batch, or a Lua error, writes nothing. The client
-- (consumers/batch.c) precomputes every string it can (full key names,
-- counter field suffixes, the stored contribution blob), so the per-claim
-- work here is a few table operations and about three Redis calls
-- (attribution lookup, claim state GET, claim state SET). Counter deltas are
-- summed per (key, field) and written once at the end.
--
--   KEYS[1]  <prefix>offset
--   ARGV     prefix, topic/partition, from, to, watermark ('' = none), n,
--            then one msgpack array of n messages, each an array (integers
--            as msgpack integers, the rest as strings):
--     C off claimkey version_h digest rank adj bene_h recv_yyyymm
--       tin1 tin2 npi1 npi2 blob nb {year month suffix paid allowed cnt}*nb
--     D off reason
--     M
--     A bene_h year value         (value '' removes the year's attribution)
--
-- Attribution lives in one hash per year, <prefix>bene:<year>, field =
-- keyed hash of the beneficiary id, so a batch reads it with one HMGET.
--
-- suffix is ':MM:TT:RRRRRR:' (service month, claim type, received month);
-- the counter field is E .. suffix .. k (k = p, a, n), and for unattributed
-- buckets E .. suffix .. reason .. ':' .. k. blob is the new version's
-- buckets as 'year,MM,TT,paid,allowed,cnt;...'; the stored claim state is
-- 'rank|version_h|digest|adj|targets|blob' where targets lists, per bucket,
-- 'ACO:E' or '~reason:E'.
--
-- Returns {1, to, applied, duplicate, stale, dead_letter, unattributed,
-- conflict offsets...} on success or {0, stored_offset} when the fence rejects the
-- batch. Conflicts are found here (they need the stored version), so the
-- caller produces their dead-letter records after the call.
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

local function apply(keys, args)
    local prefix, tp = args[1], args[2]
    local from, to = args[3], args[4]
    local wm, n = args[5], tonumber(args[6])
    local call = redis.call
    local msgs = cmsgpack.unpack(args[7])

    local stored = call('HGET', keys[1], tp)
    if stored and stored ~= from then
        return {0, tonumber(stored)}
    end

    local incr = {}       -- key -> field prefix -> {paid, allowed, count}
    local keycache = {}   -- target -> year -> counter key
    local claim_set = {}  -- claim key -> new state (last write wins)
    local claim_cache = {}
    local bene_cache = {} -- benekey -> year -> {aco, e, mask} or false
    local part_cache = {}
    local stats = {}
    local acos = {}
    local dlq = {}
    local attr = {}
    local applied, dup, stale, cancels, markers = 0, 0, 0, 0, 0

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

    local function add(key, field, sign, p, a, c)
        local t = child(incr, key)
        local v = t[field]
        if not v then
            t[field] = {sign * p, sign * a, sign * c}
        else
            v[1] = v[1] + sign * p
            v[2] = v[2] + sign * a
            v[3] = v[3] + sign * c
        end
    end

    -- The field prefix of a target's bucket: E .. suffix [.. reason ':'].
    local function field_of(target, e, suffix)
        if string.byte(target, 1) == 126 then
            return e .. suffix .. string.sub(target, 2) .. ':'
        end
        return e .. suffix
    end

    -- An attribution value 'ACO:E:mask:optout' as {aco, e, mask}, or false.
    -- A malformed one (hand-edited, say) counts as none rather than failing
    -- every batch of the partition.
    local function parse_attr(rec)
        if not rec then
            return false
        end
        local f = split(rec, ':')
        local mask = tonumber(f[3])
        if not mask then
            return false
        end
        return {f[1], f[2], mask}
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

    -- Read in bulk what the batch will look up one by one: every claim
    -- state (MGET) and every beneficiary's attribution for every year its
    -- buckets fall in (HMGET per year). One command per 1,000 keys instead
    -- of one per claim.
    local function prefetch()
        local cks, seen_ck = {}, {}
        local benes = {} -- year -> list of bene hashes
        local seen_b = {}
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
                    local sk = year .. bh
                    if not seen_b[sk] then
                        seen_b[sk] = true
                        local l = child(benes, year)
                        l[#l + 1] = bh
                    end
                end
            elseif kind ~= 'D' and kind ~= 'M' and kind ~= 'A' then
                return false
            end
        end
        for c = 1, #cks, 1000 do
            local chunk = {unpack(cks, c, math.min(c + 999, #cks))}
            local vals = call('MGET', unpack(chunk))
            for x = 1, #chunk do
                local v = vals[x]
                claim_cache[chunk[x]] = v or false
            end
        end
        for year, l in pairs(benes) do
            local t = child(bene_cache, year)
            local key = prefix .. 'bene:' .. year
            for c = 1, #l, 1000 do
                local chunk = {unpack(l, c, math.min(c + 999, #l))}
                local vals = call('HMGET', key, unpack(chunk))
                for x = 1, #chunk do
                    t[chunk[x]] = parse_attr(vals[x])
                end
            end
        end
        return true
    end

    local function participant(year, field)
        local k = year .. field
        local v = part_cache[k]
        if v == nil then
            v = call('HGET', prefix .. 'participant:' .. year, field) or false
            part_cache[k] = v
        end
        return v
    end

    -- Attribution of one bucket (docs/netting.md section 4).
    -- m is the claim message: its fallback ids (tin1 tin2 npi1 npi2) are
    -- m[10..13], looked at only when the beneficiary is not assigned.
    local fallback = {'tin:', 'tin:', 'npi:', 'npi:'}
    local function attribute(bh, year, month, m)
        local rec = bene_year(bh, year)
        local e, reason = 'U', '~no_attribution'
        if rec then
            e = rec[2]
            if math.floor(rec[3] / 2 ^ (month - 1)) % 2 == 1 then
                return rec[1], e
            end
            reason = '~not_assigned_month'
        end
        for x = 1, 4 do
            local id = m[9 + x]
            if id ~= '' then
                local a = participant(year, fallback[x] .. id)
                if a then
                    return a, e
                end
            end
        end
        return reason, e
    end

    -- Remove the stored contributions of a version, booked in month recv.
    -- The state is rank(55)|vh(32)|digest(32)|adj|targets|blob, so targets
    -- start at byte 125.
    local function unbook(state, recv)
        local sep = string.find(state, '|', 125, true)
        local targets = split(string.sub(state, 125, sep - 1), ';')
        local i = 0
        for item in string.gmatch(string.sub(state, sep + 1), '[^;]+') do
            i = i + 1
            local b = split(item, ',')
            local te = split(targets[i], ':')
            local suffix = ':' .. b[2] .. ':' .. b[3] .. ':' .. recv .. ':'
            add(counter_key(te[1], b[1]), field_of(te[1], te[2], suffix), -1,
                tonumber(b[4]), tonumber(b[5]), tonumber(b[6]))
        end
    end

    if type(msgs) ~= 'table' or #msgs ~= n or not prefetch() then
        return redis.error_reply('ERR claimsd_apply: malformed batch')
    end
    for x = 1, n do
        local m = msgs[x]
        local kind = m[1]
        if kind == 'C' then
            local off, ck, vh, digest = m[2], m[3], m[4], m[5]
            local rank, adj, bh, recv = m[6], m[7], m[8], m[9]
            local blob, nb = m[14], m[15]

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
                if state then
                    unbook(state, recv)
                end
                local targets = ''
                if adj ~= 'C' then
                    for b = 0, nb - 1 do
                        local k = 16 + 6 * b
                        local year = m[k]
                        local target, e = attribute(bh, year, m[k + 1], m)
                        local cnt = m[k + 5]
                        if cnt == 1 and string.byte(target, 1) == 126 then
                            local st = 'unattributed:' .. string.sub(target, 2)
                            stats[st] = (stats[st] or 0) + 1
                        end
                        add(counter_key(target, year),
                            field_of(target, e, m[k + 2]), 1, m[k + 3],
                            m[k + 4], cnt)
                        if b == 0 then
                            targets = target .. ':' .. e
                        else
                            targets = targets .. ';' .. target .. ':' .. e
                        end
                    end
                else
                    cancels = cancels + 1
                    blob = ''
                end
                local new = rank .. '|' .. vh .. '|' .. digest .. '|' .. adj
                    .. '|' .. targets .. '|' .. blob
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
            attr[#attr + 1] = {bh, year, value}
            local t = child(bene_cache, year)
            local v = parse_attr(value ~= '' and value or nil)
            if v then
                acos[v[1]] = true
            end
            t[bh] = v
        end
    end

    -- All reads are done; from here on only writes.
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
    local fmt = string.format
    for key, fields in pairs(incr) do
        for field, v in pairs(fields) do
            if v[1] ~= 0 then
                call('HINCRBY', key, field .. 'p', fmt('%d', v[1]))
            end
            if v[2] ~= 0 then
                call('HINCRBY', key, field .. 'a', fmt('%d', v[2]))
            end
            if v[3] ~= 0 then
                call('HINCRBY', key, field .. 'n', fmt('%d', v[3]))
            end
        end
    end
    for _, d in ipairs(dlq) do
        call('HINCRBY', prefix .. 'dlq:count', d[2], 1)
        call('XADD', prefix .. 'dlq', 'MAXLEN', '~', '100000', '*',
            'topic_partition', tp, 'offset', string.format('%d', d[1]),
            'reason', d[2])
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
    stats.attribution = #attr
    stats.dead_letter = #dlq
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
