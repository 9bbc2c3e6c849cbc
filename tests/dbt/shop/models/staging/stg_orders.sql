with source as (
    select * from {{ ref('raw_orders') }}
),
renamed as (
    select
        id as order_id,
        customer_id,
        order_date,
        created_at,
        lower(status) as status,
        amount,
        is_gift
    from source
)
select * from renamed
